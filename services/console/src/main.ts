import './tracing';
import { runService } from '@taobi/platform';
import { buildConsoleService } from './app';
import { consoleConfigSchema } from './config';

void runService({ name: 'console', schema: consoleConfigSchema, build: buildConsoleService });
