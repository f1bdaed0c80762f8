import { AppError, type FieldError } from '@taobi/platform';
import { MAX_BATCH_EVENTS } from './request-schema';

/**
 * The ingest API's own errors (the platform's `Errors` has the shared ones). Each code is stable:
 * platform teams switch on it.
 */
export const IngestErrors = {
  /** More events than a batch may carry: 413, before any event is looked at. */
  batchTooLarge: (count: number) =>
    new AppError(
      'BATCH_TOO_LARGE',
      `a batch carries at most ${MAX_BATCH_EVENTS} events; this one has ${count}`,
      413,
      { fields: [{ field: 'events', message: `at most ${MAX_BATCH_EVENTS} events` }] },
    ),
  /** Well-formed events whose `occurredAt` is in the future or before the scoring window. */
  occurredAtOutOfRange: (fields: FieldError[]) =>
    new AppError('OCCURRED_AT_OUT_OF_RANGE', 'occurredAt is outside what can be accepted', 422, { fields }),
  /** This key belongs to another source's platform. */
  wrongSource: (keySource: string, serviceSource: string) =>
    new AppError(
      'FORBIDDEN',
      `this key is bound to the ${keySource} source; this service ingests ${serviceSource} events`,
      403,
    ),
  /** Kafka did not acknowledge in time: nothing of the request was accepted; retry later. */
  publishFailed: (retryAfterSeconds: number, cause?: unknown) =>
    new AppError(
      'SERVICE_UNAVAILABLE',
      'the events could not be published to Kafka; nothing was accepted, retry with the same body',
      503,
      { retriable: true, headers: { 'retry-after': String(retryAfterSeconds) }, cause },
    ),
} as const;
