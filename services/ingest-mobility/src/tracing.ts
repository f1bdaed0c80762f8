// Imported first by main.ts: the instrumentations must patch http and pg before anything loads them.
import { startTracing } from '@taobi/platform/tracing';

startTracing({ serviceName: 'ingest-mobility', env: process.env });
