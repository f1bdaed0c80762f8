import type { Tier } from '@taobi/contracts';
import { oneRow, type Pool, type PoolClient } from '@taobi/platform';
import type { MemberTier, MonthPoints } from '@taobi/rules';
import {
  EVALUATION_MARKS_SQL,
  type EvaluationMarks,
  type EvaluationMarksRow,
  evaluationMarksOf,
} from './evaluations';

/** A member's tier state with the row revision (the version of its Redis read-model entry). */
export interface StoredMember {
  state: MemberTier;
  revision: number;
}

interface MemberRow {
  member_id: string;
  tier: Tier;
  since: Date;
  score: number;
  score_version: number;
  expiring_points: number | null;
  expiring_at: Date | null;
  points_by_month: MonthPoints[] | null;
  last_expiry: MemberTier['lastExpiry'];
  downgrade_pending: boolean;
  last_evaluation_as_of: Date | null;
  upgraded_at: Date | null;
  revision: number;
}

const COLUMNS = `member_id, tier, since, score, score_version, expiring_points, expiring_at,
  points_by_month, last_expiry, downgrade_pending, last_evaluation_as_of, revision, upgraded_at`;

function fromRow(row: MemberRow): StoredMember {
  return {
    revision: row.revision,
    state: {
      memberId: row.member_id,
      tier: row.tier,
      since: row.since.toISOString(),
      score: row.score,
      scoreVersion: row.score_version,
      expiring:
        row.expiring_points !== null && row.expiring_at !== null
          ? { points: row.expiring_points, evaluationAt: row.expiring_at.toISOString() }
          : null,
      months: row.points_by_month,
      lastExpiry: row.last_expiry,
      downgradePending: row.downgrade_pending,
      lastEvaluationAsOf: row.last_evaluation_as_of?.toISOString() ?? null,
      upgradedAt: row.upgraded_at?.toISOString() ?? null,
    },
  };
}

/**
 * Locks the rows of these members for the rest of the transaction, in member_id order (the
 * evaluation locks its pages in the same order, so the two never deadlock), and reads the
 * evaluation marks in the same statement (one round trip less per batch: a batch's latency is
 * mostly its round trips). The marks are read at the statement's start, as fresh as if read first.
 */
export async function lockMembers(
  client: PoolClient,
  memberIds: readonly string[],
): Promise<{ marks: EvaluationMarks; members: Map<string, StoredMember> }> {
  // One row per locked member, or one row of nulls beside the marks when none is stored yet.
  const { rows } = await client.query<EvaluationMarksRow & (MemberRow | { member_id: null })>(
    `WITH marks AS (${EVALUATION_MARKS_SQL}),
     locked AS (
       SELECT ${COLUMNS} FROM tier.members WHERE member_id = ANY($1::text[]) ORDER BY member_id FOR UPDATE
     )
     SELECT marks.started, marks.completed, locked.* FROM marks LEFT JOIN locked ON true`,
    [memberIds],
  );
  const members = new Map<string, StoredMember>();
  for (const row of rows) if (row.member_id !== null) members.set(row.member_id, fromRow(row));
  return { marks: evaluationMarksOf(rows[0]), members };
}

/** The next page of members after `after` (member_id order), locked for the evaluation. */
export async function lockMemberPage(
  client: PoolClient,
  after: string | null,
  limit: number,
): Promise<StoredMember[]> {
  const { rows } = await client.query<MemberRow>(
    `SELECT ${COLUMNS} FROM tier.members WHERE $1::text IS NULL OR member_id > $1::text
     ORDER BY member_id LIMIT $2 FOR UPDATE`,
    [after, limit],
  );
  return rows.map(fromRow);
}

/**
 * Inserts or updates members in one statement, and appends each saved state to `member_states`
 * (recorded at `now`, the service's clock) in the same statement: as-of reads answer from it.
 */
export async function saveMembers(
  client: PoolClient,
  members: readonly StoredMember[],
  now: Date,
): Promise<void> {
  if (members.length === 0) return;
  const column = <T>(pick: (m: MemberTier) => T) => members.map((m) => pick(m.state));
  await client.query(
    `WITH s AS (
       SELECT * FROM UNNEST($1::text[], $2::text[], $3::timestamptz[], $4::int[], $5::int[], $6::int[],
         $7::timestamptz[], $8::json[], $9::json[], $10::boolean[], $11::timestamptz[], $12::bigint[],
         $13::timestamptz[])
         AS s(member_id, tier, since, score, score_version, expiring_points, expiring_at, points_by_month,
           last_expiry, downgrade_pending, last_evaluation_as_of, revision, upgraded_at)
     ), saved AS (
       INSERT INTO tier.members (${COLUMNS}, updated_at)
       SELECT *, $14 FROM s
       ON CONFLICT (member_id) DO UPDATE SET
         tier = EXCLUDED.tier, since = EXCLUDED.since, score = EXCLUDED.score,
         score_version = EXCLUDED.score_version, expiring_points = EXCLUDED.expiring_points,
         expiring_at = EXCLUDED.expiring_at, points_by_month = EXCLUDED.points_by_month,
         last_expiry = EXCLUDED.last_expiry,
         downgrade_pending = EXCLUDED.downgrade_pending,
         last_evaluation_as_of = EXCLUDED.last_evaluation_as_of, revision = EXCLUDED.revision,
         upgraded_at = EXCLUDED.upgraded_at, updated_at = EXCLUDED.updated_at
     )
     INSERT INTO tier.member_states (member_id, revision, recorded_at, tier, since, score, score_version,
       expiring_points, expiring_at, points_by_month, last_expiry, downgrade_pending, last_evaluation_as_of,
       upgraded_at)
     SELECT member_id, revision, $14, tier, since, score, score_version, expiring_points, expiring_at,
       points_by_month, last_expiry, downgrade_pending, last_evaluation_as_of, upgraded_at FROM s`,
    [
      column((m) => m.memberId),
      column((m) => m.tier),
      column((m) => m.since),
      column((m) => m.score),
      column((m) => m.scoreVersion),
      column((m) => m.expiring?.points ?? null),
      column((m) => m.expiring?.evaluationAt ?? null),
      column((m) => (m.months ? JSON.stringify(m.months) : null)),
      column((m) => (m.lastExpiry ? JSON.stringify(m.lastExpiry) : null)),
      column((m) => m.downgradePending),
      column((m) => m.lastEvaluationAsOf),
      members.map((m) => m.revision),
      column((m) => m.upgradedAt),
      now,
    ],
  );
}

const stateRowAt = oneRow<MemberRow, [memberId: string, asOf: Date], Pool>(
  `SELECT ${COLUMNS}
   FROM tier.member_states WHERE member_id = $1 AND recorded_at <= $2
   ORDER BY revision DESC LIMIT 1`,
);

/** The member's state as the service held it at `asOf` (its clock), or undefined before the first. */
export async function memberStateAt(
  pool: Pool,
  memberId: string,
  asOf: Date,
): Promise<StoredMember | undefined> {
  const row = await stateRowAt(pool, memberId, asOf);
  return row && fromRow(row);
}

const memberRow = oneRow<MemberRow, [memberId: string], Pool>(
  `SELECT ${COLUMNS} FROM tier.members WHERE member_id = $1`,
);

export async function readMember(pool: Pool, memberId: string): Promise<StoredMember | undefined> {
  const row = await memberRow(pool, memberId);
  return row && fromRow(row);
}

/** Members per tier (members never seen are not counted: they are BRONZE by definition). */
export async function tierDistribution(pool: Pool): Promise<Map<Tier, number>> {
  const { rows } = await pool.query<{ tier: Tier; members: number }>(
    'SELECT tier, count(*)::int AS members FROM tier.members GROUP BY tier',
  );
  return new Map(rows.map((row) => [row.tier, row.members]));
}

export async function countPendingDowngrades(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM tier.members WHERE downgrade_pending',
  );
  return rows[0]?.n ?? 0;
}

/** Members by current tier (an index-only scan of `members_tier`). */
export async function countMembersByTier(pool: Pool): Promise<{ tier: string; members: number }[]> {
  const { rows } = await pool.query<{ tier: string; n: number }>(
    'SELECT tier, count(*)::int AS n FROM tier.members GROUP BY tier',
  );
  return rows.map((row) => ({ tier: row.tier, members: row.n }));
}

/** A page of members changed at or after `since` (member_id order), to resync the read model. */
export async function membersUpdatedSince(
  pool: Pool,
  since: Date,
  after: string | null,
  limit: number,
): Promise<StoredMember[]> {
  const { rows } = await pool.query<MemberRow>(
    `SELECT ${COLUMNS} FROM tier.members WHERE updated_at >= $1 AND ($2::text IS NULL OR member_id > $2::text)
     ORDER BY member_id LIMIT $3`,
    [since, after, limit],
  );
  return rows.map(fromRow);
}
