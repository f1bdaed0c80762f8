import './tracing';
import { runService } from '@taobi/platform';
import { buildTierService } from './app';
import { tierConfigSchema } from './config';

void runService({ name: 'tier', schema: tierConfigSchema, build: buildTierService });
