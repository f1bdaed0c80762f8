import type { Category, ScoreBreakdown, Source } from '@taobi/contracts';
import type { Month } from './calendar';
import type { CategoryWeight, ScoreRules } from './score-rules';

/** The four sources in breakdown order. */
export const SCORE_SOURCES: readonly Source[] = ['ecommerce', 'food', 'travel', 'mobility'];

/** What an order is worth before any monthly cap. */
export interface OrderContribution {
  /** Spending points: min(orderCap, floor(net / fenPerPoint)). */
  points: number;
  /** Whether the order earns frequency points (its net amount reaches the minimum). */
  qualifies: boolean;
}

export interface OrderFacts {
  source: Source;
  category: Category;
  /** Integer fen. */
  amount: number;
  /** Sum of the order's refunds so far, integer fen (may exceed the amount). */
  refunded: number;
}

function weightOf(rules: ScoreRules, source: Source, category: Category): CategoryWeight {
  const weight = (rules.sources[source].categories as Record<string, CategoryWeight | undefined>)[category];
  if (!weight) throw new RangeError(`no score weight for ${source}/${category}`);
  return weight;
}

/** An order's points after its refunds: refunds only ever lower them, never below zero. */
export function orderContribution(rules: ScoreRules, order: OrderFacts): OrderContribution {
  const net = Math.max(0, order.amount - order.refunded);
  const weight = weightOf(rules, order.source, order.category);
  return {
    points: Math.min(weight.orderCap, Math.floor(net / weight.fenPerPoint)),
    qualifies: net >= rules.sources[order.source].frequency.minNetAmount,
  };
}

/** The uncapped sums of one (member, month, source) bucket: they add up whatever the arrival order. */
export interface BucketTotals {
  orderPoints: number;
  qualifyingOrders: number;
}

export interface BucketPoints {
  amountPoints: number;
  frequencyPoints: number;
  /** What the bucket adds to the score: amountPoints + frequencyPoints. */
  points: number;
}

/** A bucket's points with the monthly caps of its source applied. */
export function bucketPoints(rules: ScoreRules, source: Source, totals: BucketTotals): BucketPoints {
  const rule = rules.sources[source];
  const amountPoints = Math.min(rule.monthlyCap, Math.max(0, totals.orderPoints));
  const frequencyPoints = Math.min(
    rule.frequency.monthlyCap,
    rule.frequency.pointsPerOrder * Math.max(0, totals.qualifyingOrders),
  );
  return { amountPoints, frequencyPoints, points: amountPoints + frequencyPoints };
}

export function emptyBreakdown(rules: ScoreRules): ScoreBreakdown {
  return { base: rules.baseScore, ecommerce: 0, food: 0, travel: 0, mobility: 0 };
}

export function scoreOfBreakdown(breakdown: ScoreBreakdown): number {
  return breakdown.base + breakdown.ecommerce + breakdown.food + breakdown.travel + breakdown.mobility;
}

export function sameBreakdown(a: ScoreBreakdown, b: ScoreBreakdown): boolean {
  return (
    a.base === b.base &&
    a.ecommerce === b.ecommerce &&
    a.food === b.food &&
    a.travel === b.travel &&
    a.mobility === b.mobility
  );
}

export interface MonthBucket {
  month: Month;
  source: Source;
  /** Capped points of the bucket (`bucketPoints(...).points`). */
  points: number;
}

/** Score and breakdown from a member's buckets: the base plus every bucket from `windowFrom` on. */
export function scoreFromBuckets(
  rules: ScoreRules,
  buckets: Iterable<MonthBucket>,
  windowFrom: Month,
): { score: number; breakdown: ScoreBreakdown } {
  const breakdown = emptyBreakdown(rules);
  for (const bucket of buckets) {
    if (bucket.month >= windowFrom) breakdown[bucket.source] += bucket.points;
  }
  return { score: scoreOfBreakdown(breakdown), breakdown };
}

/** Points of the buckets in [windowFrom, nextWindowFrom): what moving the window start will expire. */
export function expiringPoints(
  buckets: Iterable<MonthBucket>,
  windowFrom: Month,
  nextWindowFrom: Month,
): number {
  let points = 0;
  for (const bucket of buckets) {
    if (bucket.month >= windowFrom && bucket.month < nextWindowFrom) points += bucket.points;
  }
  return points;
}
