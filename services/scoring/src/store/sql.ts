import type { ScoreBreakdown, Source } from '@taobi/contracts';
import type { Pool, PoolClient } from '@taobi/platform';
import type { LedgerBucket } from '@taobi/rules';

/** A pool or a client inside a transaction. */
export type Queryable = Pool | PoolClient;

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
  ecommerce: number;
  food: number;
  travel: number;
  mobility: number;
  expiring_points: number;
  expiring_at: Date | null;
  rule_version: string;
  updated_at: Date;
}

export const MEMBER_COLUMNS =
  'member_id, window_from, version, score, base, ecommerce, food, travel, mobility, expiring_points, expiring_at, rule_version, updated_at';

export function breakdownOf(row: MemberRow): ScoreBreakdown {
  return {
    base: row.base,
    ecommerce: row.ecommerce,
    food: row.food,
    travel: row.travel,
    mobility: row.mobility,
  };
}

export interface MemberUpdate {
  memberId: string;
  version: number;
  score: number;
  breakdown: ScoreBreakdown;
  windowFrom: string;
  expiringPoints: number;
  expiringAt: Date;
  ruleVersion: string;
}

/** Writes members' scores in one statement. */
export async function updateMembers(
  db: Queryable,
  updates: readonly MemberUpdate[],
  now: Date,
): Promise<void> {
  if (updates.length === 0) return;
  await db.query(
    `UPDATE scoring.members m SET
       version = u.version, score = u.score, base = u.base, ecommerce = u.ecommerce, food = u.food,
       travel = u.travel, mobility = u.mobility, window_from = u.window_from,
       expiring_points = u.expiring_points, expiring_at = u.expiring_at, rule_version = u.rule_version,
       updated_at = $12
     FROM UNNEST($1::text[], $2::int[], $3::int[], $4::int[], $5::int[], $6::int[], $7::int[], $8::int[],
                 $9::text[], $10::int[], $11::timestamptz[], $13::text[])
       AS u(member_id, version, score, base, ecommerce, food, travel, mobility, window_from,
            expiring_points, expiring_at, rule_version)
     WHERE m.member_id = u.member_id`,
    [
      updates.map((u) => u.memberId),
      updates.map((u) => u.version),
      updates.map((u) => u.score),
      updates.map((u) => u.breakdown.base),
      updates.map((u) => u.breakdown.ecommerce),
      updates.map((u) => u.breakdown.food),
      updates.map((u) => u.breakdown.travel),
      updates.map((u) => u.breakdown.mobility),
      updates.map((u) => u.windowFrom),
      updates.map((u) => u.expiringPoints),
      updates.map((u) => u.expiringAt),
      now,
      updates.map((u) => u.ruleVersion),
    ],
  );
}

/** Writes buckets' absolute values in one statement. */
export async function upsertBuckets(db: Queryable, buckets: readonly LedgerBucket[]): Promise<void> {
  if (buckets.length === 0) return;
  await db.query(
    `INSERT INTO scoring.buckets (member_id, month, source, order_points, qualifying_orders, points)
     SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::int[])
     ON CONFLICT (member_id, month, source) DO UPDATE SET
       order_points = EXCLUDED.order_points,
       qualifying_orders = EXCLUDED.qualifying_orders,
       points = EXCLUDED.points`,
    [
      buckets.map((b) => b.memberId),
      buckets.map((b) => b.month),
      buckets.map((b) => b.source),
      buckets.map((b) => b.orderPoints),
      buckets.map((b) => b.qualifyingOrders),
      buckets.map((b) => b.points),
    ],
  );
}

/** Each member's points in [their window start, `nextWindowFrom`): what the next evaluation expires. */
export async function expiringPointsOf(
  db: Queryable,
  members: readonly { memberId: string; windowFrom: string }[],
  nextWindowFrom: string,
): Promise<Map<string, number>> {
  if (members.length === 0) return new Map();
  const { rows } = await db.query<{ member_id: string; points: number }>(
    `SELECT k.member_id, COALESCE(sum(b.points), 0)::int AS points
     FROM UNNEST($1::text[], $2::text[]) AS k(member_id, window_from)
     LEFT JOIN scoring.buckets b
       ON b.member_id = k.member_id AND b.month >= k.window_from AND b.month < $3
     GROUP BY k.member_id`,
    [members.map((m) => m.memberId), members.map((m) => m.windowFrom), nextWindowFrom],
  );
  return new Map(rows.map((row) => [row.member_id, row.points]));
}

export type BucketRow = {
  member_id: string;
  month: string;
  source: Source;
  order_points: number;
  qualifying_orders: number;
  points: number;
};

export function toLedgerBucket(row: BucketRow): LedgerBucket {
  return {
    memberId: row.member_id,
    month: row.month,
    source: row.source,
    orderPoints: row.order_points,
    qualifyingOrders: row.qualifying_orders,
    points: row.points,
  };
}
