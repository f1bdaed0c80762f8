import { type ConsumptionEvent, consumptionEventId, consumptionEventSchema } from '@taobi/contracts';
import type { IngestEvent, IngestSourceDefinition } from './source-definition';

/**
 * The deterministic id of an ingest event: (source, kind, orderId) for a completed order,
 * (source, kind, refundId) for a refund. The same order posted twice gets the same id, so a
 * platform's retry is harmless downstream (consumers dedupe on eventId).
 */
export function ingestEventId(definition: IngestSourceDefinition, event: IngestEvent): string {
  return event.type === 'order.completed'
    ? consumptionEventId(definition.source, 'completed', event.orderId)
    : consumptionEventId(definition.source, 'refunded', event.refundId ?? '');
}

/**
 * Maps a validated ingest event onto the canonical consumption event. Instants are normalised to
 * UTC (`toISOString`), so every record on the topic compares as text; the source's own fields are
 * mapped by its definition and not carried otherwise. The result is parsed with the contract's
 * schema before it may be published (producers parse before sending).
 */
export function toCanonicalEvent(
  definition: IngestSourceDefinition,
  event: IngestEvent,
  receivedAt: Date,
): ConsumptionEvent {
  const kind = event.type === 'order.completed' ? 'completed' : 'refunded';
  const overrides = definition.mapExtraFields?.(event) ?? {};
  const merchantId = overrides.merchantId ?? event.merchantId;
  const record = {
    eventId: ingestEventId(definition, event),
    schemaVersion: 1,
    kind,
    source: definition.source,
    ...(event.channel !== undefined ? { channel: event.channel } : {}),
    ...(event.category !== undefined ? { category: event.category } : {}),
    memberId: event.memberId,
    orderId: event.orderId,
    ...(kind === 'refunded' ? { refundId: event.refundId } : {}),
    amount: event.amount,
    currency: event.currency,
    ...(merchantId !== undefined ? { merchantId } : {}),
    occurredAt: new Date(event.occurredAt).toISOString(),
    receivedAt: receivedAt.toISOString(),
  };
  return consumptionEventSchema.parse(record);
}
