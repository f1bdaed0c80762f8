import type { Category, ScoreBreakdown, Source } from '@taobi/contracts';
import type { Month } from './calendar';
import { type BucketTotals, bucketPoints, orderContribution, sameBreakdown, scoreOfBreakdown } from './score';
import type { ScoreRules } from './score-rules';

/**
 * The incremental fold the scoring service runs per batch, as a pure function: given the rows a
 * batch touches (affected orders with their refund totals, their buckets, their members), it says
 * what to write. Everything it adds up is a sum (order points, qualifying orders), so the result
 * does not depend on the order events arrive in, and an order whose contribution did not change
 * produces no write: replaying events changes nothing.
 */
export interface LedgerOrder {
  source: Source;
  orderId: string;
  memberId: string;
  /** The Asia/Shanghai month the order belongs to (its refunds count there too). */
  month: Month;
  category: Category;
  amount: number;
  /** What the ledger credits the order with now (0 / false for an order inserted by this batch). */
  points: number;
  qualifies: boolean;
  /** The sum of the order's refunds (same member) now in the ledger, this batch's included. */
  refunded: number;
}

export interface LedgerBucket extends BucketTotals {
  memberId: string;
  month: Month;
  source: Source;
  /** The bucket's capped points as stored. */
  points: number;
}

export interface LedgerMember {
  memberId: string;
  /** The first month the member's score counts (moved forward by the monthly evaluation only). */
  windowFrom: Month;
  breakdown: ScoreBreakdown;
  version: number;
}

export interface MemberOutcome {
  memberId: string;
  previousScore: number;
  score: number;
  breakdown: ScoreBreakdown;
  /** The member's new version: one more than before when the score or breakdown changed. */
  version: number;
  changed: boolean;
}

export interface BatchPlan {
  /** Every order given, with its contribution under the current rules and refund total. */
  orders: LedgerOrder[];
  /** Buckets whose totals changed, with their new absolute values. */
  buckets: LedgerBucket[];
  /** Every member given, changed or not. */
  members: MemberOutcome[];
}

export const bucketKey = (memberId: string, month: Month, source: Source): string =>
  `${memberId}\u0000${month}\u0000${source}`;

export function planBatch(
  rules: ScoreRules,
  input: {
    orders: readonly LedgerOrder[];
    buckets: readonly LedgerBucket[];
    members: readonly LedgerMember[];
  },
): BatchPlan {
  const buckets = new Map(input.buckets.map((b) => [bucketKey(b.memberId, b.month, b.source), { ...b }]));
  const touched = new Set<string>();
  const orders: LedgerOrder[] = [];

  for (const order of input.orders) {
    const next = orderContribution(rules, order);
    const deltaPoints = next.points - order.points;
    const deltaQualifying = Number(next.qualifies) - Number(order.qualifies);
    orders.push({ ...order, points: next.points, qualifies: next.qualifies });
    if (deltaPoints === 0 && deltaQualifying === 0) continue;
    const key = bucketKey(order.memberId, order.month, order.source);
    const bucket = buckets.get(key) ?? {
      memberId: order.memberId,
      month: order.month,
      source: order.source,
      orderPoints: 0,
      qualifyingOrders: 0,
      points: 0,
    };
    bucket.orderPoints += deltaPoints;
    bucket.qualifyingOrders += deltaQualifying;
    buckets.set(key, bucket);
    touched.add(key);
  }

  const members = new Map(
    input.members.map((m) => [m.memberId, { ...m, breakdown: { ...m.breakdown, base: rules.baseScore } }]),
  );
  const changedBuckets: LedgerBucket[] = [];
  for (const key of touched) {
    const bucket = buckets.get(key) as LedgerBucket;
    const points = bucketPoints(rules, bucket.source, bucket).points;
    const member = members.get(bucket.memberId);
    if (!member) throw new Error(`planBatch: member ${bucket.memberId} was not loaded`);
    if (bucket.month >= member.windowFrom) member.breakdown[bucket.source] += points - bucket.points;
    changedBuckets.push({ ...bucket, points });
  }

  return {
    orders,
    buckets: changedBuckets,
    members: input.members.map((before) => {
      const after = members.get(before.memberId) as LedgerMember;
      const changed = !sameBreakdown(before.breakdown, after.breakdown);
      return {
        memberId: before.memberId,
        previousScore: scoreOfBreakdown(before.breakdown),
        score: scoreOfBreakdown(after.breakdown),
        breakdown: after.breakdown,
        version: changed ? before.version + 1 : before.version,
        changed,
      };
    }),
  };
}
