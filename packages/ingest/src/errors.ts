import { Errors, errorKind, type FieldError } from '@taobi/platform';
import { MAX_BATCH_EVENTS } from './request-schema';

/**
 * The ingest API's own errors (the platform's `Errors` has the shared ones). Each code is stable:
 * platform teams switch on it.
 */
export const IngestErrors = {
  /** More events than a batch may carry: 413, before any event is looked at. */
  batchTooLarge: errorKind('BATCH_TOO_LARGE', 413, (count: number) => ({
    message: `a batch carries at most ${MAX_BATCH_EVENTS} events; this one has ${count}`,
    fields: [{ field: 'events', message: `at most ${MAX_BATCH_EVENTS} events` }],
  })),
  /** Well-formed events whose `occurredAt` is in the future or before the scoring window. */
  occurredAtOutOfRange: errorKind('OCCURRED_AT_OUT_OF_RANGE', 422, (fields: FieldError[]) => ({
    message: 'occurredAt is outside what can be accepted',
    fields,
  })),
  /** This key belongs to another source's platform. */
  wrongSource: (keySource: string, serviceSource: string) =>
    Errors.forbidden(
      `this key is bound to the ${keySource} source; this service ingests ${serviceSource} events`,
    ),
  /** Kafka did not acknowledge in time: nothing of the request was accepted; retry later. */
  publishFailed: (retryAfterSeconds: number, cause?: unknown) =>
    Errors.unavailable(
      'the events could not be published to Kafka; nothing was accepted, retry with the same body',
      retryAfterSeconds,
      cause,
    ),
} as const;
