import { type Tier, tierRank } from '@taobi/contracts';
import type { Pool, PoolClient } from '@taobi/platform';
import type { OrderingKey } from '../domain/ordering';

/** A member's tier as this service knows it; a member never seen is Bronze. */
export interface MemberState {
  memberId: string;
  tier: Tier;
  score: number | null;
  since: Date | null;
  /** The ordering key of the record that set the tier (scoreVersion -1 when none arrived yet). */
  key: OrderingKey;
}

interface MemberRow {
  member_id: string;
  tier: Tier;
  score: number | null;
  score_version: number;
  tier_occurred_at: Date | null;
  tier_event_id: string | null;
  tier_since: Date | null;
}

const COLUMNS = 'member_id, tier, score, score_version, tier_occurred_at, tier_event_id, tier_since';

function toState(row: MemberRow): MemberState {
  return {
    memberId: row.member_id,
    tier: row.tier,
    score: row.score,
    since: row.tier_since,
    key: {
      scoreVersion: row.score_version,
      occurredAtMs: row.tier_occurred_at?.getTime() ?? 0,
      eventId: row.tier_event_id ?? '',
    },
  };
}

export function unknownMember(memberId: string): MemberState {
  return {
    memberId,
    tier: 'BRONZE',
    score: null,
    since: null,
    key: { scoreVersion: -1, occurredAtMs: 0, eventId: '' },
  };
}

/**
 * Creates the members that do not exist yet (as Bronze) and locks all of them for this transaction,
 * in member order so two transactions locking overlapping sets cannot deadlock.
 */
export async function lockMembers(
  client: PoolClient,
  memberIds: readonly string[],
): Promise<Map<string, MemberState>> {
  const sorted = [...new Set(memberIds)].sort();
  await client.query(
    `INSERT INTO entitlement.members (member_id)
     SELECT m FROM UNNEST($1::text[]) AS m ORDER BY m
     ON CONFLICT (member_id) DO NOTHING`,
    [sorted],
  );
  const { rows } = await client.query<MemberRow>(
    `SELECT ${COLUMNS} FROM entitlement.members WHERE member_id = ANY($1::text[]) ORDER BY member_id FOR UPDATE`,
    [sorted],
  );
  return new Map(rows.map((row) => [row.member_id, toState(row)]));
}

export async function lockMember(client: PoolClient, memberId: string): Promise<MemberState> {
  const states = await lockMembers(client, [memberId]);
  return states.get(memberId) ?? unknownMember(memberId);
}

export async function readMember(pool: Pool, memberId: string): Promise<MemberState> {
  const { rows } = await pool.query<MemberRow>(
    `SELECT ${COLUMNS} FROM entitlement.members WHERE member_id = $1`,
    [memberId],
  );
  return rows[0] ? toState(rows[0]) : unknownMember(memberId);
}

/** Writes the members' new tiers and ordering keys, one statement for all. */
export async function saveMemberTiers(client: PoolClient, states: readonly MemberState[]): Promise<void> {
  if (states.length === 0) return;
  await client.query(
    `UPDATE entitlement.members m
     SET tier = s.tier, tier_rank = s.rank, score = s.score, score_version = s.version,
         tier_occurred_at = s.occurred_at, tier_event_id = s.event_id, tier_since = s.since, updated_at = now()
     FROM UNNEST($1::text[], $2::text[], $3::int[], $4::int[], $5::bigint[], $6::timestamptz[], $7::text[], $8::timestamptz[])
       AS s(member_id, tier, rank, score, version, occurred_at, event_id, since)
     WHERE m.member_id = s.member_id`,
    [
      states.map((s) => s.memberId),
      states.map((s) => s.tier),
      states.map((s) => tierRank(s.tier)),
      states.map((s) => s.score),
      states.map((s) => s.key.scoreVersion),
      states.map((s) => new Date(s.key.occurredAtMs)),
      states.map((s) => s.key.eventId),
      states.map((s) => s.since),
    ],
  );
}
