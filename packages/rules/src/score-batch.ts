import type { Category, ScoreBreakdown, Source } from '@taobi/contracts';
import type { Month } from './calendar';
import {
  addPoints,
  type BucketTotals,
  bucketPoints,
  orderContribution,
  sameBreakdown,
  scoreOfBreakdown,
} from './score';
import type { ScoreRules } from './score-rules';

/**
 * The incremental fold the scoring service runs per batch, as pure functions, in two steps so the
 * store can keep each row write to one set-based statement:
 *
 * 1. `planOrders`: the orders a batch touches (new ones, and existing ones a new refund reaches)
 *    get their contribution under the current rules; the differences become per-bucket deltas.
 * 2. The store adds the deltas to the buckets (an atomic increment), then `planMembers` turns each
 *    bucket's totals before and after into the members' new breakdowns and versions.
 *
 * Everything added up is a sum (order points, qualifying orders), so the result does not depend
 * on the order events arrive in; an order whose contribution did not change produces no delta, so
 * replaying events changes nothing. `planBatch` composes both steps over in-memory buckets.
 */
export interface LedgerOrder {
  source: Source;
  orderId: string;
  memberId: string;
  /** The Asia/Shanghai month the order belongs to (its refunds count there too). */
  month: Month;
  category: Category;
  amount: number;
  /** What the ledger credits the order with now (0 / false for an order not yet credited). */
  points: number;
  qualifies: boolean;
  /** The sum of the order's refunds (same member) now in the ledger, this batch's included. */
  refunded: number;
}

/** A (member, month, source) bucket's uncapped totals. */
export interface LedgerBucket extends BucketTotals {
  memberId: string;
  month: Month;
  source: Source;
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

export const bucketKey = (memberId: string, month: Month, source: Source): string =>
  `${memberId}\u0000${month}\u0000${source}`;

/**
 * Adds `points` and `qualifying` orders to the bucket of (member, month, source) in `buckets`
 * (keyed by `bucketKey`), starting it at zero: how the batch plan, the reference fold and the
 * rebuild sum orders into buckets.
 */
export function addToBucket(
  buckets: Map<string, LedgerBucket>,
  at: { memberId: string; month: Month; source: Source },
  points: number,
  qualifying: number,
): void {
  const key = bucketKey(at.memberId, at.month, at.source);
  const bucket = buckets.get(key) ?? {
    memberId: at.memberId,
    month: at.month,
    source: at.source,
    orderPoints: 0,
    qualifyingOrders: 0,
  };
  bucket.orderPoints += points;
  bucket.qualifyingOrders += qualifying;
  buckets.set(key, bucket);
}

/** Step 1: each order's contribution now, and the bucket deltas (only non-zero ones). */
export function planOrders(
  rules: ScoreRules,
  orders: readonly LedgerOrder[],
): { orders: LedgerOrder[]; deltas: LedgerBucket[] } {
  const deltas = new Map<string, LedgerBucket>();
  const planned = orders.map((order) => {
    const next = orderContribution(rules, order);
    const deltaPoints = next.points - order.points;
    const deltaQualifying = Number(next.qualifies) - Number(order.qualifies);
    if (deltaPoints !== 0 || deltaQualifying !== 0) {
      addToBucket(deltas, order, deltaPoints, deltaQualifying);
    }
    return { ...order, points: next.points, qualifies: next.qualifies };
  });
  return {
    orders: planned,
    deltas: [...deltas.values()].filter((d) => d.orderPoints !== 0 || d.qualifyingOrders !== 0),
  };
}

/**
 * The bucket deltas of new orders credited from nothing (`credited`: their points and
 * qualification as `planOrders` gave them), with `deltas` of other orders added: what
 * `planOrders` gives for the same orders at 0 points followed by the others, without computing
 * the new orders' contributions a second time.
 */
export function creditedDeltas(
  credited: readonly LedgerOrder[],
  deltas: readonly LedgerBucket[],
): LedgerBucket[] {
  const buckets = new Map<string, LedgerBucket>();
  for (const order of credited) {
    if (order.points !== 0 || order.qualifies) {
      addToBucket(buckets, order, order.points, Number(order.qualifies));
    }
  }
  for (const delta of deltas) addToBucket(buckets, delta, delta.orderPoints, delta.qualifyingOrders);
  return [...buckets.values()].filter((d) => d.orderPoints !== 0 || d.qualifyingOrders !== 0);
}

/**
 * Step 2: members' new breakdowns from the touched buckets' totals after the deltas were added.
 * Capped points before and after are computed from the totals (before = after - delta); only
 * months from the member's window start count. Every member given gets an outcome.
 */
export function planMembers(
  rules: ScoreRules,
  input: {
    buckets: readonly { after: LedgerBucket; delta: BucketTotals }[];
    members: readonly LedgerMember[];
  },
): MemberOutcome[] {
  const breakdowns = new Map(
    input.members.map((m) => [m.memberId, { ...m.breakdown, base: rules.baseScore }]),
  );
  const windowFrom = new Map(input.members.map((m) => [m.memberId, m.windowFrom]));
  for (const { after, delta } of input.buckets) {
    const breakdown = breakdowns.get(after.memberId);
    if (!breakdown) throw new Error(`planMembers: member ${after.memberId} was not loaded`);
    if (after.month < (windowFrom.get(after.memberId) as Month)) continue;
    const before = {
      orderPoints: after.orderPoints - delta.orderPoints,
      qualifyingOrders: after.qualifyingOrders - delta.qualifyingOrders,
    };
    addPoints(
      breakdown,
      after.source,
      bucketPoints(rules, after.source, after).points - bucketPoints(rules, after.source, before).points,
    );
  }
  return input.members.map((member) => {
    const breakdown = breakdowns.get(member.memberId) as ScoreBreakdown;
    const changed = !sameBreakdown(member.breakdown, breakdown);
    return {
      memberId: member.memberId,
      previousScore: scoreOfBreakdown(member.breakdown),
      score: scoreOfBreakdown(breakdown),
      breakdown,
      version: changed ? member.version + 1 : member.version,
      changed,
    };
  });
}

export interface BatchPlan {
  /** Every order given, with its contribution under the current rules. */
  orders: LedgerOrder[];
  /** The touched buckets' totals after the batch. */
  buckets: LedgerBucket[];
  /** Every member given, changed or not. */
  members: MemberOutcome[];
}

/** Both steps over buckets held in memory (`buckets`: the current totals of the touched ones). */
export function planBatch(
  rules: ScoreRules,
  input: {
    orders: readonly LedgerOrder[];
    buckets: readonly LedgerBucket[];
    members: readonly LedgerMember[];
  },
): BatchPlan {
  const current = new Map(input.buckets.map((b) => [bucketKey(b.memberId, b.month, b.source), b]));
  const { orders, deltas } = planOrders(rules, input.orders);
  const buckets = deltas.map((delta) => {
    const before = current.get(bucketKey(delta.memberId, delta.month, delta.source));
    return {
      after: {
        ...delta,
        orderPoints: (before?.orderPoints ?? 0) + delta.orderPoints,
        qualifyingOrders: (before?.qualifyingOrders ?? 0) + delta.qualifyingOrders,
      },
      delta,
    };
  });
  return {
    orders,
    buckets: buckets.map((b) => b.after),
    members: planMembers(rules, { buckets, members: input.members }),
  };
}
