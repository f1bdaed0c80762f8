import { type TierChanged, type TierDecision, tierChangedSchema } from '@taobi/contracts';
import type { OutboxRecord } from '@taobi/platform';
import type { TierChange } from '@taobi/rules';

/**
 * A tier change's eventId is derived from what caused it, never from when it was processed: a
 * score version causes at most one upgrade and an evaluation at most one downgrade per member, so
 * a redelivered score change or a rerun evaluation yields the same id, which the outbox (unique on
 * eventId) and downstream consumers dedupe.
 */
export function tierChangedEventId(change: Pick<TierChange, 'memberId' | 'cause'>): string {
  return change.cause.kind === 'score'
    ? `tier:${change.memberId}:score:${change.cause.version}`
    : `tier:${change.memberId}:evaluation:${new Date(change.cause.asOf).toISOString()}`;
}

/** The `taobi.tier-changed.v1` record of a change with its decision, parsed before it is enqueued. */
export function tierChangedRecord(change: TierChange, decision: TierDecision): TierChanged {
  return tierChangedSchema.parse({
    eventId: tierChangedEventId(change),
    schemaVersion: 1,
    memberId: change.memberId,
    occurredAt: change.occurredAt,
    previousTier: change.previousTier,
    tier: change.tier,
    direction: change.direction,
    score: change.score,
    scoreVersion: change.scoreVersion,
    reason: change.reason,
    decision,
  } satisfies TierChanged);
}

export function tierChangedOutbox(change: TierChange, decision: TierDecision): OutboxRecord {
  const record = tierChangedRecord(change, decision);
  return { eventId: record.eventId, topic: 'tierChanged', key: record.memberId, payload: record };
}
