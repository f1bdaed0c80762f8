import type { TierChanged } from '@taobi/contracts';

/**
 * Which tier-changed record is newer. Records may arrive twice or out of order (a republished
 * outbox, a replay), so each member keeps the ordering key of the record that set its tier and a
 * record not strictly newer is stale. The key is (scoreVersion, occurredAt, eventId): scoreVersion
 * first, because it is the tier service's causal order; occurredAt next, because two monthly
 * evaluations can lower the tier twice on one score version; the eventId only breaks exact ties.
 */
export interface OrderingKey {
  scoreVersion: number;
  occurredAtMs: number;
  eventId: string;
}

export function orderingKeyOf(
  record: Pick<TierChanged, 'scoreVersion' | 'occurredAt' | 'eventId'>,
): OrderingKey {
  return {
    scoreVersion: record.scoreVersion,
    occurredAtMs: Date.parse(record.occurredAt),
    eventId: record.eventId,
  };
}

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareOrderingKeys(a: OrderingKey, b: OrderingKey): number {
  if (a.scoreVersion !== b.scoreVersion) return a.scoreVersion - b.scoreVersion;
  if (a.occurredAtMs !== b.occurredAtMs) return a.occurredAtMs - b.occurredAtMs;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

/** The stint a record opens: stable for the record, different for every later record. */
export function stintOf(key: OrderingKey): string {
  return `v${key.scoreVersion}@${key.occurredAtMs}`;
}
