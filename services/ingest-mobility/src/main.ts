import './tracing';
import { runService } from '@taobi/platform';
import { buildService } from './app';
import { configSchema } from './config';

void runService({ name: 'ingest-mobility', schema: configSchema, build: buildService });
