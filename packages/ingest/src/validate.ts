import { type AppError, Errors, type FieldError, fieldErrorsFromZod } from '@taobi/platform';
import { IngestErrors } from './errors';
import type { IngestSchemas } from './request-schema';
import { MAX_BATCH_EVENTS } from './request-schema';
import type { IngestEvent, IngestSourceDefinition } from './source-definition';
import { type OccurredAtRange, outsideRange } from './time-window';

export type ValidationResult =
  | { ok: true; events: IngestEvent[]; batch: boolean }
  | { ok: false; error: AppError; eventCount: number };

export interface ValidationContext {
  definition: IngestSourceDefinition;
  schemas: IngestSchemas;
  range: OccurredAtRange;
  maxFutureMs: number;
  /** The deterministic id of an event, to find the same order or refund twice in one batch. */
  eventIdOf: (event: IngestEvent) => string;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Validates a request body: one event, or `{ "events": [...] }`. Every problem of every event is
 * reported (field paths like `events.3.amount`), and the request is all or nothing:
 * - 413 BATCH_TOO_LARGE when a batch has more than 500 events (nothing else is looked at);
 * - 400 VALIDATION_FAILED for shape problems (missing, mistyped or unknown fields, bad values,
 *   the same order or refund twice in one batch), listing any time problems too;
 * - 422 OCCURRED_AT_OUT_OF_RANGE when the events are well-formed but some `occurredAt` is more
 *   than the allowed skew in the future or before the scoring window.
 */
export function validateIngestBody(body: unknown, context: ValidationContext): ValidationResult {
  if (!isPlainObject(body)) {
    const error = Errors.validation([{ field: '', message: 'send one event object or { "events": [...] }' }]);
    return { ok: false, error, eventCount: Array.isArray(body) ? body.length : 1 };
  }
  const batch = 'events' in body;
  const shapeErrors: FieldError[] = [];
  let items: { value: unknown; prefix: (string | number)[] }[];
  if (batch) {
    const events = body.events;
    for (const key of Object.keys(body).filter((k) => k !== 'events')) {
      shapeErrors.push({ field: key, message: 'unknown field' });
    }
    if (!Array.isArray(events)) {
      shapeErrors.push({ field: 'events', message: 'must be an array of events' });
      return { ok: false, error: Errors.validation(shapeErrors), eventCount: 1 };
    }
    if (events.length > MAX_BATCH_EVENTS) {
      return { ok: false, error: IngestErrors.batchTooLarge(events.length), eventCount: events.length };
    }
    if (events.length === 0) {
      shapeErrors.push({ field: 'events', message: 'must hold at least one event' });
    }
    items = events.map((value, index) => ({ value, prefix: ['events', index] }));
  } else {
    items = [{ value: body, prefix: [] }];
  }

  const timeErrors: FieldError[] = [];
  const valid: IngestEvent[] = [];
  const firstIndexOfId = new Map<string, number>();
  for (const [index, { value, prefix }] of items.entries()) {
    const parsed = context.schemas.parseEvent(value);
    if (!parsed.success) {
      shapeErrors.push(...fieldErrorsFromZod(parsed.error.issues, prefix));
      continue;
    }
    const event = parsed.data;
    const own = context.definition.checkExtraFields?.(event);
    if (own && own.length > 0) {
      shapeErrors.push(...own.map((e) => ({ ...e, field: [...prefix, e.field].join('.') })));
    }

    // Only a batch can repeat an order (one event needs no id here: the record gets it later).
    const eventId = items.length > 1 ? context.eventIdOf(event) : '';
    const first = firstIndexOfId.get(eventId);
    if (first !== undefined) {
      const field = event.type === 'order.refunded' ? 'refundId' : 'orderId';
      shapeErrors.push({
        field: [...prefix, field].join('.'),
        message: `repeats events.${first} (the same ${field === 'refundId' ? 'refund' : 'order'} twice in one batch)`,
      });
    } else {
      firstIndexOfId.set(eventId, index);
    }

    const why = outsideRange(new Date(event.occurredAt), context.range, context.maxFutureMs);
    if (why) timeErrors.push({ field: [...prefix, 'occurredAt'].join('.'), message: why });
    valid.push(event);
  }

  if (shapeErrors.length > 0) {
    return { ok: false, error: Errors.validation([...shapeErrors, ...timeErrors]), eventCount: items.length };
  }
  if (timeErrors.length > 0) {
    return { ok: false, error: IngestErrors.occurredAtOutOfRange(timeErrors), eventCount: items.length };
  }
  return { ok: true, events: valid, batch };
}
