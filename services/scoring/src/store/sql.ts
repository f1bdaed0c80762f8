import type { ScoreBreakdown, ScoreChangeReason, Source } from '@taobi/contracts';
import type { Pool, PoolClient } from '@taobi/platform';
import {
  bucketPoints,
  emptyBreakdown,
  expiryForecast,
  type LedgerBucket,
  type Month,
  pointsByMonth,
  type RuleSet,
  type ScoreRules,
} from '@taobi/rules';
import type { MemberOutlook, ScoredMember } from '../domain/score-view';
import { LATEST_EVALUATION_SQL } from './window-state';

/**
 * SQL shared by the fold, the evaluation and the rebuild. Rows travel to Postgres as ONE JSON
 * document per statement (`json_to_recordset($1::json)`), the set-based equivalent of UNNEST over
 * parallel arrays: one JSON.stringify instead of pg's per-element array escaping, which dominated
 * the consumer's CPU profile. (The fold's orders, most of a batch's rows, go by COPY instead:
 * `copyToStaging` in @taobi/platform.)
 */
export type Queryable = Pool | PoolClient;

export const asJson = (rows: readonly object[]): string => JSON.stringify(rows);

/** Postgres errors worth retrying the whole transaction for (deadlock, serialization failure). */
export function isRetriableTransactionError(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === '40P01' || code === '40001';
}

export interface MemberRow {
  member_id: string;
  window_from: string;
  version: number;
  score: number;
  base: number;
  /** Points by source, for the sources with points (json; a source missing from it has 0). */
  source_points: Record<Source, number>;
  expiring_points: number;
  expiring_at: Date | null;
  rule_version: string;
  updated_at: Date;
}

export const MEMBER_COLUMNS =
  'member_id, window_from, version, score, base, source_points, expiring_points, expiring_at, rule_version, updated_at';

/** A row's breakdown: the base, and every source of `rules` (0 when it has no points) and of the row. */
export function breakdownOf(row: MemberRow, rules: ScoreRules): ScoreBreakdown {
  return { ...emptyBreakdown(rules), ...row.source_points, base: row.base };
}

/** What `source_points` stores of a breakdown: the sources with points. */
function sourcePointsOf(breakdown: ScoreBreakdown): Record<Source, number> {
  const points: Record<Source, number> = {};
  for (const [source, value] of Object.entries(breakdown)) {
    if (source !== 'base' && value !== 0) points[source] = value;
  }
  return points;
}

/** A member row locked by the fold, with its buckets from its window start on. */
export interface LockedMember extends MemberRow {
  buckets: LedgerBucket[];
}

/**
 * Locks the members (in id order; the fold created those that did not exist, `applyDeltas`) and
 * reads them with their buckets from their window start on, and the latest evaluation, in one
 * statement.
 */
export async function lockMembers(
  db: Queryable,
  memberIds: readonly string[],
): Promise<{
  members: LockedMember[];
  latestEvaluation: { evaluation_at: Date; window_from: string } | undefined;
}> {
  if (memberIds.length === 0) return { members: [], latestEvaluation: undefined };
  const { rows } = await db.query<
    MemberRow & {
      buckets: [string, Source, number, number][] | null;
      evaluation_at: Date | null;
      evaluation_window_from: string | null;
    }
  >({
    name: 'scoring-fold-members',
    text: `SELECT ${MEMBER_COLUMNS.split(', ')
      .map((column) => `m.${column}`)
      .join(', ')}, e.evaluation_at, e.window_from AS evaluation_window_from,
       (SELECT json_agg(json_build_array(b.month, b.source, b.order_points, b.qualifying_orders))
        FROM scoring.buckets b WHERE b.member_id = m.member_id AND b.month >= m.window_from) AS buckets
     FROM scoring.members m LEFT JOIN LATERAL (${LATEST_EVALUATION_SQL}) e ON true
     WHERE m.member_id IN (SELECT json_array_elements_text($1::json)) ORDER BY m.member_id FOR UPDATE OF m`,
    values: [JSON.stringify([...new Set(memberIds)])],
  });
  const first = rows[0];
  return {
    members: rows.map(({ buckets, evaluation_at: _at, evaluation_window_from: _from, ...row }) => ({
      ...row,
      buckets: (buckets ?? []).map(([month, source, orderPoints, qualifyingOrders]) => ({
        memberId: row.member_id,
        month,
        source,
        orderPoints,
        qualifyingOrders,
      })),
    })),
    latestEvaluation:
      first?.evaluation_at && first.evaluation_window_from
        ? { evaluation_at: first.evaluation_at, window_from: first.evaluation_window_from }
        : undefined,
  };
}

/** A member's row as the fold, the evaluation and the rebuild write it. */
export interface MemberUpdate extends ScoredMember {
  ruleVersion: string;
}

/** Where a version's consumption records are on the topic: their partition and offset range. */
export interface LogPosition {
  partition: number;
  firstOffset: string;
  lastOffset: string;
}

/**
 * Writes members' scores in one statement, and appends each new version to `score_versions` in
 * the same statement (a data-modifying CTE: no extra round trip). `changed` members get a
 * version row with `reason` (and `position`, for a consumption batch); the others (an evaluation or
 * rebuild that only moved the window or forecast) only have their row updated.
 */
export async function updateMembers(
  db: Queryable,
  updates: readonly (MemberUpdate & { changed: boolean })[],
  context: { now: Date; reason: ScoreChangeReason; position?: LogPosition },
): Promise<void> {
  if (updates.length === 0) return;
  const position = context.position;
  await db.query({
    name: 'scoring-update-members',
    text: `WITH u AS (
       SELECT * FROM json_to_recordset($1::json) AS u(member_id text, version int, score int, base int,
         source_points json, window_from text, expiring_points int, expiring_at timestamptz, rule_version text,
         changed bool)
     ), updated AS (
       UPDATE scoring.members m SET
         version = u.version, score = u.score, base = u.base, source_points = u.source_points,
         window_from = u.window_from, expiring_points = u.expiring_points, expiring_at = u.expiring_at,
         rule_version = u.rule_version, updated_at = $2
       FROM u WHERE m.member_id = u.member_id
     )
     INSERT INTO scoring.score_versions (member_id, version, score, base, source_points, window_from,
       expiring_points, expiring_at, rule_version, reason, committed_at, log_partition, log_first_offset,
       log_last_offset)
     SELECT member_id, version, score, base, source_points, window_from, expiring_points, expiring_at,
       rule_version, $3, $2, $4, $5, $6
     FROM u WHERE changed`,
    values: [
      asJson(
        updates.map((u) => ({
          member_id: u.memberId,
          version: u.version,
          score: u.score,
          base: u.breakdown.base,
          source_points: sourcePointsOf(u.breakdown),
          window_from: u.windowFrom,
          expiring_points: u.outlook.expiring.points,
          expiring_at: u.outlook.expiring.evaluationAt,
          rule_version: u.ruleVersion,
          changed: u.changed,
        })),
      ),
      context.now,
      context.reason,
      position?.partition ?? null,
      position?.firstOffset ?? null,
      position?.lastOffset ?? null,
    ],
  });
}

export interface BucketRow {
  member_id: string;
  month: string;
  source: Source;
  order_points: number;
  qualifying_orders: number;
}

export function toLedgerBucket(row: BucketRow): LedgerBucket {
  return {
    memberId: row.member_id,
    month: row.month,
    source: row.source,
    orderPoints: row.order_points,
    qualifyingOrders: row.qualifying_orders,
  };
}

const bucketJson = (buckets: readonly LedgerBucket[]) =>
  asJson(
    buckets.map((b) => ({
      member_id: b.memberId,
      month: b.month,
      source: b.source,
      order_points: b.orderPoints,
      qualifying_orders: b.qualifyingOrders,
    })),
  );

/**
 * One statement for the fold's writes before its members are locked: the deltas added to the
 * buckets atomically (creating them), and the members of the deltas that do not exist yet created
 * (`fresh`: their window start is the latest evaluation's, else `fresh.windowFrom`). Returns the
 * buckets' totals after.
 */
export async function applyDeltas(
  db: Queryable,
  deltas: readonly LedgerBucket[],
  fresh: { windowFrom: Month; baseScore: number; ruleVersion: string },
): Promise<LedgerBucket[]> {
  if (deltas.length === 0) return [];
  const { rows } = await db.query<BucketRow>({
    name: 'scoring-fold-deltas',
    text: `WITH d AS (
       SELECT * FROM json_to_recordset($1::json)
         AS d(member_id text, month text, source text, order_points int, qualifying_orders int)
     ), fresh AS (
       INSERT INTO scoring.members (member_id, window_from, score, base, rule_version)
       SELECT m.member_id, COALESCE((SELECT e.window_from FROM (${LATEST_EVALUATION_SQL}) e), $2), $3, $3, $4
       FROM (SELECT DISTINCT member_id FROM d) m ORDER BY m.member_id
       ON CONFLICT (member_id) DO NOTHING
     )
     INSERT INTO scoring.buckets AS b (member_id, month, source, order_points, qualifying_orders)
     SELECT * FROM d ORDER BY member_id, month, source
     ON CONFLICT (member_id, month, source) DO UPDATE SET
       order_points = b.order_points + EXCLUDED.order_points,
       qualifying_orders = b.qualifying_orders + EXCLUDED.qualifying_orders
     RETURNING member_id, month, source, order_points, qualifying_orders`,
    values: [bucketJson(deltas), fresh.windowFrom, fresh.baseScore, fresh.ruleVersion],
  });
  return rows.map(toLedgerBucket);
}

/** Sets buckets to absolute totals (the rebuild). */
export async function writeBuckets(db: Queryable, buckets: readonly LedgerBucket[]): Promise<void> {
  if (buckets.length === 0) return;
  await db.query(
    `INSERT INTO scoring.buckets AS b (member_id, month, source, order_points, qualifying_orders)
     SELECT * FROM json_to_recordset($1::json)
       AS d(member_id text, month text, source text, order_points int, qualifying_orders int)
     ON CONFLICT (member_id, month, source) DO UPDATE SET
       order_points = EXCLUDED.order_points, qualifying_orders = EXCLUDED.qualifying_orders`,
    [bucketJson(buckets)],
  );
}

/**
 * The buckets of each member from their window start on (`until`: exclusive upper month), with
 * their capped points under `rules`.
 */
/** A bucket with the points it counts under the rules it was scored with (its caps applied). */
export type ScoredBucket = LedgerBucket & { points: number };

export function scoredBucket(rules: ScoreRules, bucket: LedgerBucket): ScoredBucket {
  return { ...bucket, points: bucketPoints(rules, bucket.source, bucket).points };
}

export async function memberBuckets(
  db: Queryable,
  members: readonly { memberId: string; windowFrom: Month }[],
  rules: ScoreRules,
  until?: Month,
): Promise<ScoredBucket[]> {
  if (members.length === 0) return [];
  const { rows } = await db.query<BucketRow>(
    `SELECT b.member_id, b.month, b.source, b.order_points, b.qualifying_orders
     FROM json_to_recordset($1::json) AS k(member_id text, window_from text)
     JOIN scoring.buckets b ON b.member_id = k.member_id AND b.month >= k.window_from
     WHERE $2::text IS NULL OR b.month < $2::text`,
    [asJson(members.map((m) => ({ member_id: m.memberId, window_from: m.windowFrom }))), until ?? null],
  );
  return rows.map((row) => scoredBucket(rules, toLedgerBucket(row)));
}

/** A member's expiry forecast and points per month from their buckets (`points`: capped). */
export function outlookOf(
  buckets: readonly { month: Month; points: number }[],
  windowFrom: Month,
  next: Date,
  rules: RuleSet,
): MemberOutlook {
  return {
    expiring: expiryForecast(buckets, windowFrom, next, rules.evaluation),
    months: pointsByMonth(buckets, windowFrom),
  };
}
