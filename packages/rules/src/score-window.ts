import {
  addMonths,
  lastEvaluationAt,
  type Month,
  monthsBetween,
  nextEvaluationAt,
  shanghaiDayStart,
  shanghaiMonth,
  windowOf,
} from './calendar';
import type { RuleSet } from './rule-set';

/**
 * The rolling window, pinned down. Contributions belong to the Asia/Shanghai month of the order.
 *
 * - Expiry happens ONLY at a monthly evaluation. Between two evaluations nothing leaves the score
 *   because of the calendar: a member's score counts every month from their `windowFrom` on,
 *   including months that start after the last evaluation.
 * - The evaluation due at instant E (the 8th, 00:00 Asia/Shanghai) moves `windowFrom` to
 *   `windowOf(E, windowMonths).from`: the 12 months ending with E's month. With E = 2026-12-08 it
 *   keeps 2026-01 .. 2026-12 and expires 2025-12 and older. An evaluation asked for at any `asOf`
 *   runs the evaluation due at `lastEvaluationAt(asOf)`.
 * - So from the 8th to the end of a month a score covers 12 months, and from the 1st to the 7th it
 *   covers 13 (the new month has started, the oldest has not been expired yet).
 * - A contribution of month M expires at the evaluation in month M + windowMonths.
 * - The forecast a score carries (`expiringAtNextEvaluation`) names the next evaluation at which
 *   the member LOSES points, and how many: `score - points` is their score right after it, and
 *   nothing expires before it. A member whose score does not change at an evaluation gets no new
 *   record, so a forecast that only looked one calendar month ahead would go stale; this one stays
 *   exact until the member's score changes again (which brings a new record and a new forecast).
 */
export type EvaluationRules = RuleSet['evaluation'];

/** The evaluation instant an evaluation asked for at `asOf` runs: the last one due at or before it. */
export function evaluationDueAt(asOf: Date, rules: EvaluationRules): Date {
  return lastEvaluationAt(asOf, rules.dayOfMonth);
}

/** The first month still counted after the evaluation at `evaluationAt`. */
export function windowStartAfter(evaluationAt: Date, rules: EvaluationRules): Month {
  return windowOf(evaluationAt, rules.windowMonths).from;
}

/**
 * The next evaluation a score should be forecast against: the first one after both `now` and the
 * latest evaluation that has run (an admin may have run one ahead of the calendar with `asOf`).
 */
export function nextEvaluation(now: Date, latestEvaluationAt: Date | null, rules: EvaluationRules): Date {
  const after = latestEvaluationAt && latestEvaluationAt > now ? latestEvaluationAt : now;
  return nextEvaluationAt(after, rules.dayOfMonth);
}

/**
 * The window a score reports: from the member's `windowFrom` to the current month, or to
 * `windowFrom + windowMonths - 1` when an evaluation ran ahead of the clock.
 */
export function reportedWindow(
  windowFrom: Month,
  now: Date,
  rules: EvaluationRules,
): { from: Month; to: Month } {
  const current = shanghaiMonth(now);
  const full = addMonths(windowFrom, rules.windowMonths - 1);
  return { from: windowFrom, to: monthsBetween(current, full) > 0 ? full : current };
}

/** The evaluation at which a contribution of `month` stops counting. */
export function expiryEvaluationOf(month: Month, rules: EvaluationRules): Date {
  return shanghaiDayStart(addMonths(month, rules.windowMonths), rules.dayOfMonth);
}

/**
 * What the member will lose, and when: the first evaluation (not before `next`) at which a month of
 * theirs with points leaves the window, and every point leaving then. With nothing to lose:
 * `{ points: 0, evaluationAt: next }`.
 */
export function expiryForecast(
  buckets: Iterable<{ month: Month; points: number }>,
  windowFrom: Month,
  next: Date,
  rules: EvaluationRules,
): { points: number; evaluationAt: Date } {
  const counted = [...buckets].filter((b) => b.month >= windowFrom && b.points > 0);
  if (counted.length === 0) return { points: 0, evaluationAt: next };
  const oldest = counted.map((b) => b.month).sort()[0] as Month;
  const expiry = expiryEvaluationOf(oldest, rules);
  const evaluationAt = expiry.getTime() > next.getTime() ? expiry : next;
  const leaving = windowStartAfter(evaluationAt, rules);
  const points = counted.filter((b) => b.month < leaving).reduce((sum, b) => sum + b.points, 0);
  return { points, evaluationAt };
}

/** A month's points, as `taobi.score-changed.v1` carries them (`pointsByMonth`). */
export interface MonthPoints {
  month: Month;
  points: number;
}

/** Points per month from `windowFrom` on, oldest first, months without points left out. */
export function pointsByMonth(
  buckets: Iterable<{ month: Month; points: number }>,
  windowFrom: Month,
): MonthPoints[] {
  const totals = new Map<Month, number>();
  for (const bucket of buckets) {
    if (bucket.month >= windowFrom && bucket.points > 0) {
      totals.set(bucket.month, (totals.get(bucket.month) ?? 0) + bucket.points);
    }
  }
  return [...totals]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([month, points]) => ({ month, points }));
}

/** The months of `months` the evaluation at `evaluationAt` takes out of the score. */
export function monthsLeavingAt(
  months: readonly MonthPoints[],
  evaluationAt: Date,
  rules: EvaluationRules,
): MonthPoints[] {
  const windowFrom = windowStartAfter(evaluationAt, rules);
  return months.filter((m) => m.month < windowFrom);
}
