import pino, { type Logger } from 'pino';
import { activeTraceIds } from './trace-context';

export type { Logger } from 'pino';

/** Paths pino masks wherever they appear: keys must never reach a log line. */
const REDACT = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'request.headers.authorization',
  'apiKey',
  '*.apiKey',
];

/**
 * A pino logger whose every line written inside a span carries its `trace_id` and `span_id`, so a
 * trace and the log lines of its steps find each other.
 */
export function createLogger(
  options: { name: string; level?: string },
  destination?: pino.DestinationStream,
): Logger {
  const settings: pino.LoggerOptions = {
    name: options.name,
    level: options.level ?? 'info',
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // pino merges the line's own fields into what the mixin returns: a fresh object each time.
    mixin: () => activeTraceIds() ?? {},
  };
  return destination ? pino(settings, destination) : pino(settings);
}
