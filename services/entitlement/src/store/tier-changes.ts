import type { TierChanged } from '@taobi/contracts';
import type { PoolClient } from '@taobi/platform';

export interface TierChangeLogEntry {
  record: TierChanged;
  outcome: 'applied' | 'stale';
}

/** Logs each consumed record once (a redelivered record keeps its first outcome). */
export async function logTierChanges(
  client: PoolClient,
  entries: readonly TierChangeLogEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  await client.query(
    `INSERT INTO entitlement.tier_changes
       (event_id, member_id, previous_tier, tier, reason, score_version, occurred_at, outcome)
     SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::timestamptz[], $8::text[])
     ON CONFLICT (member_id, event_id) DO NOTHING`,
    [
      entries.map((e) => e.record.eventId),
      entries.map((e) => e.record.memberId),
      entries.map((e) => e.record.previousTier),
      entries.map((e) => e.record.tier),
      entries.map((e) => e.record.reason),
      entries.map((e) => e.record.scoreVersion),
      entries.map((e) => e.record.occurredAt),
      entries.map((e) => e.outcome),
    ],
  );
}
