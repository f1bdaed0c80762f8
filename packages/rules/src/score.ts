import {
  type Category,
  SCORE_BREAKDOWN_V1_SOURCES,
  type ScoreBreakdown,
  type Source,
} from '@taobi/contracts';
import type { Month } from './calendar';
import { type CategoryWeight, type ScoreRules, sourceIds, sourceRules } from './score-rules';

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

/** Whether `rules` weigh orders of `source` and `category` (`orderContribution` throws otherwise). */
export function weighs(rules: ScoreRules, source: Source, category: Category): boolean {
  const found = Object.hasOwn(rules.sources, source) ? rules.sources[source] : undefined;
  return found !== undefined && Object.hasOwn(found.categories, category);
}

function weightOf(rules: ScoreRules, source: Source, category: Category): CategoryWeight {
  const { categories } = sourceRules(rules, source);
  const weight = Object.hasOwn(categories, category) ? categories[category] : undefined;
  if (!weight) throw new RangeError(`no score weight for ${source}/${category}`);
  return weight;
}

/** An order's points after its refunds: refunds only ever lower them, never below zero. */
export function orderContribution(rules: ScoreRules, order: OrderFacts): OrderContribution {
  const net = Math.max(0, order.amount - order.refunded);
  const weight = weightOf(rules, order.source, order.category);
  return {
    points: Math.min(weight.orderCap, Math.floor(net / weight.fenPerPoint)),
    qualifies: net >= sourceRules(rules, order.source).frequency.minNetAmount,
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
  const rule = sourceRules(rules, source);
  const amountPoints = Math.min(rule.monthlyCap, Math.max(0, totals.orderPoints));
  const frequencyPoints = Math.min(
    rule.frequency.monthlyCap,
    rule.frequency.pointsPerOrder * Math.max(0, totals.qualifyingOrders),
  );
  return { amountPoints, frequencyPoints, points: amountPoints + frequencyPoints };
}

/**
 * A breakdown with no points: the base, and 0 for every source of the rules and every source
 * `taobi.score-changed.v1` promises its consumers (`SCORE_BREAKDOWN_V1_SOURCES`).
 */
export function emptyBreakdown(rules: ScoreRules): ScoreBreakdown {
  const breakdown: Record<string, number> = { base: rules.baseScore };
  for (const source of SCORE_BREAKDOWN_V1_SOURCES) breakdown[source] = 0;
  for (const source of sourceIds(rules)) breakdown[source] = 0;
  return breakdown as ScoreBreakdown;
}

/** Adds a source's points to a breakdown (in place). */
export function addPoints(breakdown: ScoreBreakdown, source: Source, points: number): void {
  breakdown[source] = (breakdown[source] ?? 0) + points;
}

/** The base plus every source's points. */
export function scoreOfBreakdown(breakdown: ScoreBreakdown): number {
  let score = 0;
  for (const points of Object.values(breakdown)) score += points;
  return score;
}

/** Same points for the base and every source (a source missing on one side counts as 0). */
export function sameBreakdown(a: ScoreBreakdown, b: ScoreBreakdown): boolean {
  for (const key of Object.keys(a)) if (a[key] !== (b[key] ?? 0)) return false;
  for (const key of Object.keys(b)) if (!Object.hasOwn(a, key) && b[key] !== 0) return false;
  return true;
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
    if (bucket.month >= windowFrom) addPoints(breakdown, bucket.source, bucket.points);
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
