import type { Category, ConsumptionKind, ScoreBreakdown, Source } from '@taobi/contracts';
import { type Month, shanghaiMonth } from './calendar';
import { addPoints, bucketPoints, emptyBreakdown, orderContribution, scoreOfBreakdown } from './score';
import {
  addToBucket,
  bucketKey,
  type LedgerBucket,
  type LedgerMember,
  type LedgerOrder,
  type MemberOutcome,
  planBatch,
} from './score-batch';
import type { ScoreRules } from './score-rules';

/** The fields of a consumption event the score depends on (a `ConsumptionEvent` is one). */
export interface ScoreEvent {
  eventId: string;
  kind: ConsumptionKind;
  source: Source;
  memberId: string;
  orderId: string;
  refundId?: string | undefined;
  amount: number;
  category?: Category | undefined;
  occurredAt: string;
}

export interface MemberScore {
  score: number;
  breakdown: ScoreBreakdown;
}

const orderKey = (source: Source, orderId: string) => `${source}\u0000${orderId}`;

/** A (member, month, source) bucket of a from-scratch fold, with its capped points. */
export interface FoldedBucket {
  memberId: string;
  month: Month;
  source: Source;
  /** Capped points (`bucketPoints(...).points`). */
  points: number;
}

/**
 * Every member's month buckets computed from scratch from a set of events, with their capped
 * points, and every member the events name. Duplicates (same eventId, same order, same refund)
 * count once: the first wins; a refund counts against its own member's order only.
 */
export function foldBuckets(
  rules: ScoreRules,
  events: Iterable<ScoreEvent>,
): { buckets: FoldedBucket[]; members: Set<string> } {
  const seen = new Set<string>();
  const orders = new Map<string, ScoreEvent>();
  const refunds = new Map<string, ScoreEvent>();
  for (const event of events) {
    if (seen.has(event.eventId)) continue;
    seen.add(event.eventId);
    if (event.kind === 'completed') {
      const key = orderKey(event.source, event.orderId);
      if (!orders.has(key)) orders.set(key, event);
    } else {
      const key = orderKey(event.source, event.refundId ?? '');
      if (!refunds.has(key)) refunds.set(key, event);
    }
  }
  const refunded = new Map<string, number>();
  for (const refund of refunds.values()) {
    const key = `${orderKey(refund.source, refund.orderId)}\u0000${refund.memberId}`;
    refunded.set(key, (refunded.get(key) ?? 0) + refund.amount);
  }
  const totals = new Map<string, LedgerBucket>();
  for (const order of orders.values()) {
    const contribution = orderContribution(rules, {
      source: order.source,
      category: order.category as Category,
      amount: order.amount,
      refunded: refunded.get(`${orderKey(order.source, order.orderId)}\u0000${order.memberId}`) ?? 0,
    });
    const month = shanghaiMonth(new Date(order.occurredAt));
    addToBucket(
      totals,
      { memberId: order.memberId, month, source: order.source },
      contribution.points,
      Number(contribution.qualifies),
    );
  }
  const members = new Set([...orders.values(), ...refunds.values()].map((event) => event.memberId));
  const buckets = [...totals.values()].map((b) => ({
    memberId: b.memberId,
    month: b.month,
    source: b.source,
    points: bucketPoints(rules, b.source, b).points,
  }));
  return { buckets, members };
}

/**
 * The score of every member computed from scratch from a set of events: the reference the
 * incremental fold (the service, `createMemoryLedger`) must agree with, and what a rebuild
 * recomputes. Duplicates (same eventId, same order, same refund) count once: the first wins.
 */
export function foldScores(
  rules: ScoreRules,
  events: Iterable<ScoreEvent>,
  windowFrom: Month,
): Map<string, MemberScore> {
  const { buckets, members } = foldBuckets(rules, events);
  const result = new Map<string, MemberScore>();
  for (const memberId of members) result.set(memberId, { score: 0, breakdown: emptyBreakdown(rules) });
  for (const bucket of buckets) {
    if (bucket.month < windowFrom) continue;
    const member = result.get(bucket.memberId) as MemberScore;
    addPoints(member.breakdown, bucket.source, bucket.points);
  }
  for (const member of result.values()) member.score = scoreOfBreakdown(member.breakdown);
  return result;
}

interface StoredRefund {
  source: Source;
  orderId: string;
  memberId: string;
  amount: number;
}

/**
 * An in-memory ledger that folds batches exactly as the scoring service does over Postgres: insert
 * what is new (unique on eventId, on (source, orderId) and on (source, refundId)), then `planBatch`
 * over the rows the batch touched. Used by property tests and for replaying history offline.
 */
export function createMemoryLedger(rules: ScoreRules, windowFrom: Month) {
  const eventIds = new Set<string>();
  const orders = new Map<string, LedgerOrder>();
  const refunds = new Map<string, StoredRefund>();
  const buckets = new Map<string, LedgerBucket>();
  const members = new Map<string, LedgerMember>();

  function refundedTotal(order: LedgerOrder): number {
    let total = 0;
    for (const refund of refunds.values()) {
      if (
        refund.source === order.source &&
        refund.orderId === order.orderId &&
        refund.memberId === order.memberId
      )
        total += refund.amount;
    }
    return total;
  }

  function member(memberId: string): LedgerMember {
    let found = members.get(memberId);
    if (!found) {
      found = { memberId, windowFrom, breakdown: emptyBreakdown(rules), version: 0 };
      members.set(memberId, found);
    }
    return found;
  }

  return {
    /** Folds one batch; returns the outcome of every member the batch touched. */
    apply(events: readonly ScoreEvent[]): MemberOutcome[] {
      const affected = new Set<string>();
      const memberIds = new Set<string>();
      for (const event of events) {
        if (eventIds.has(event.eventId)) continue;
        if (event.kind === 'completed') {
          const key = orderKey(event.source, event.orderId);
          if (orders.has(key)) continue;
          orders.set(key, {
            source: event.source,
            orderId: event.orderId,
            memberId: event.memberId,
            month: shanghaiMonth(new Date(event.occurredAt)),
            category: event.category as Category,
            amount: event.amount,
            points: 0,
            qualifies: false,
            refunded: 0,
          });
          affected.add(key);
        } else {
          const key = orderKey(event.source, event.refundId ?? '');
          if (refunds.has(key)) continue;
          refunds.set(key, { ...event });
          affected.add(orderKey(event.source, event.orderId));
        }
        eventIds.add(event.eventId);
        memberIds.add(event.memberId);
      }
      const batchOrders = [...affected]
        .map((key) => orders.get(key))
        .filter((order): order is LedgerOrder => order !== undefined)
        .map((order) => ({ ...order, refunded: refundedTotal(order) }));
      for (const order of batchOrders) memberIds.add(order.memberId);
      const plan = planBatch(rules, {
        orders: batchOrders,
        buckets: batchOrders
          .map((o) => buckets.get(bucketKey(o.memberId, o.month, o.source)))
          .filter((b): b is LedgerBucket => b !== undefined),
        members: [...memberIds].sort().map(member),
      });
      for (const order of plan.orders) orders.set(orderKey(order.source, order.orderId), order);
      for (const bucket of plan.buckets)
        buckets.set(bucketKey(bucket.memberId, bucket.month, bucket.source), bucket);
      for (const outcome of plan.members) {
        const stored = member(outcome.memberId);
        stored.breakdown = outcome.breakdown;
        stored.version = outcome.version;
      }
      return plan.members;
    },
    score(memberId: string): MemberScore & { version: number } {
      const stored = member(memberId);
      return {
        score: scoreOfBreakdown(stored.breakdown),
        breakdown: stored.breakdown,
        version: stored.version,
      };
    },
    members(): string[] {
      return [...members.keys()];
    },
  };
}
