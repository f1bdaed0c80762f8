import {
  type ConsumptionEvent,
  consumptionEventId,
  type DeadLetter,
  type OrderCompleted,
  type OrderRefunded,
} from '@taobi/contracts';
import { type RuleSet, sourceFieldsProblem } from '@taobi/rules';

/**
 * Checks a schema-valid consumption event further than its schema can: its source, channel and
 * category must be the rule set's (sources are data: one the rule set in force does not know
 * cannot be scored), the eventId must be the deterministic one (the ledger does not store it:
 * it derives it from the key (source, orderId or refundId), which dedupes by it), and the event must not be dated in the future. Returns the
 * reason to dead-letter it, or undefined.
 */
export function rejectionReason(
  event: ConsumptionEvent,
  context: { rules: RuleSet; now: Date; maxFutureSkewMs: number },
): string | undefined {
  const unknown = sourceFieldsProblem(context.rules, event);
  if (unknown) return unknown;
  const externalId = event.kind === 'completed' ? event.orderId : event.refundId;
  if (event.eventId !== consumptionEventId(event.source, event.kind, externalId)) {
    return 'eventId is not consumptionEventId(source, kind, orderId or refundId)';
  }
  if (Date.parse(event.occurredAt) > context.now.getTime() + context.maxFutureSkewMs) {
    return 'occurredAt is in the future';
  }
  return undefined;
}

/** The DLQ reason of an event whose eventId the ledger holds with other fields. */
export const CONFLICTING_DUPLICATE = 'conflicting-duplicate';

/**
 * Splits a batch into the first event of each eventId and the later copies, so one batch never
 * inserts or counts an event twice; the copies are checked against what was kept.
 */
export function splitRepeats<T extends { eventId: string }>(
  events: readonly T[],
): { distinct: T[]; repeats: T[] } {
  const seen = new Set<string>();
  const distinct: T[] = [];
  const repeats: T[] = [];
  for (const event of events) {
    if (seen.has(event.eventId)) {
      repeats.push(event);
      continue;
    }
    seen.add(event.eventId);
    distinct.push(event);
  }
  return { distinct, repeats };
}

/**
 * An order or refund as the ledger keeps it: without its `receivedAt` (nor, for a refund, the
 * optional channel and category), which are not fields that matter.
 */
export type StoredConsumption = Omit<OrderCompleted, 'receivedAt'> | Omit<OrderRefunded, 'receivedAt'>;

/**
 * The fields that make an order or a refund what it is (currency is always CNY; `receivedAt` is when
 * ingest saw it, which a platform's retry changes; a refund's optional channel and category are
 * not used).
 */
const FIELDS_THAT_MATTER = {
  completed: ['memberId', 'amount', 'occurredAt', 'channel', 'category', 'merchantId'],
  refunded: ['memberId', 'orderId', 'amount', 'occurredAt'],
} as const;

/**
 * Where `incoming` differs from the `stored` version of the same eventId (so of the same kind: the
 * eventId names it), one entry per field that matters; empty for an exact duplicate (a retry).
 */
export function conflictingFields(
  stored: StoredConsumption,
  incoming: ConsumptionEvent,
): DeadLetter['errors'] {
  const fields: readonly string[] = FIELDS_THAT_MATTER[incoming.kind];
  const value = (event: StoredConsumption, field: string) => (event as Record<string, unknown>)[field];
  const same = (field: string, a: unknown, b: unknown) =>
    field === 'occurredAt' ? Date.parse(String(a)) === Date.parse(String(b)) : a === b;
  return fields
    .filter((field) => !same(field, value(stored, field), value(incoming, field)))
    .map((field) => ({
      field,
      message: `stored ${JSON.stringify(value(stored, field)) ?? 'nothing'}, received ${JSON.stringify(value(incoming, field)) ?? 'nothing'}`,
    }));
}
