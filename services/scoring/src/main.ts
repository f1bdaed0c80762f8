import './tracing';
import { runService } from '@taobi/platform';
import { buildScoringService } from './app';
import { scoringConfigSchema } from './config';

void runService({ name: 'scoring', schema: scoringConfigSchema, build: buildScoringService });
