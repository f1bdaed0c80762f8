import type { Tier, TierDecision } from '@taobi/contracts';
import { shanghaiMonth } from './calendar';
import type { RuleSet } from './rule-set';
import { expiryEvaluationOf, type MonthPoints, windowStartAfter } from './score-window';
import {
  currentScore,
  effectiveScore,
  evaluateMember,
  type MemberTier,
  type TierChange,
  type TierThresholds,
} from './tiers';

/**
 * Explaining and forecasting tier decisions, as pure functions over the tier state and the rule
 * sets in force: what the decisions table keeps for every change, and what
 * `GET /v1/members/:id/forecast` says the coming evaluations will do. The forecast runs the
 * evaluation policy itself (`evaluateMember`) on the projected state, so it cannot disagree with
 * what the evaluation then does.
 */

const instant = (iso: string) => Date.parse(iso);

/**
 * The months whose points left the score at the evaluation at `asOf`. When the last record was
 * written before scoring's evaluation, they are those of its announced expiry (`expiring`, at or
 * before `asOf`) in its points per month; when scoring's evaluation record came first, those it
 * took out (`lastExpiry`, for this evaluation's window). Empty when the records did not carry
 * points per month.
 */
export function monthsExpiredAt(state: MemberTier, asOf: string, rules: RuleSet): MonthPoints[] {
  const { expiring, months, lastExpiry } = state;
  if (expiring && months && instant(expiring.evaluationAt) <= instant(asOf)) {
    const windowFrom = windowStartAfter(new Date(expiring.evaluationAt), rules.evaluation);
    return months.filter((m) => m.month < windowFrom);
  }
  const windowFrom = windowStartAfter(new Date(asOf), rules.evaluation);
  return lastExpiry && lastExpiry.windowFrom === windowFrom ? lastExpiry.months : [];
}

/**
 * What the decisions table and the tier-changed record keep about a change: the score and the
 * threshold it crossed under `rules` (the rule set whose thresholds decided), and for an evaluation
 * the window it counted and the months that left. `before` is the member's state the change was
 * decided from.
 */
export function explainTierChange(change: TierChange, before: MemberTier, rules: RuleSet): TierDecision {
  const { thresholds } = rules.tiers;
  const from: Tier | null = change.previousTier ?? null;
  const lost = change.direction === 'down' && from !== null;
  const evaluation =
    change.cause.kind === 'evaluation'
      ? (() => {
          const asOf = new Date(change.cause.asOf);
          return {
            evaluationAsOf: asOf.toISOString(),
            windowFrom: windowStartAfter(asOf, rules.evaluation),
            windowTo: shanghaiMonth(asOf),
            expiredMonths: monthsExpiredAt(before, change.cause.asOf, rules),
          };
        })()
      : { evaluationAsOf: null, windowFrom: null, windowTo: null, expiredMonths: [] };
  return {
    at: new Date(change.occurredAt).toISOString(),
    from,
    to: change.tier,
    direction: change.direction,
    reason: change.reason,
    score: change.score,
    scoreVersion: change.scoreVersion,
    threshold: lost ? thresholds[from] : thresholds[change.tier],
    ruleVersion: rules.version,
    ...evaluation,
  };
}

export interface EvaluationForecast {
  /** The evaluation instant (the rule set's day, 00:00 Asia/Shanghai). */
  at: string;
  /** Points that leave the score at it (without new activity). */
  expiringPoints: number;
  /** The score right after it, without new activity. */
  projectedScore: number;
  /** The tier the evaluation would leave the member in. */
  projectedTier: Tier;
  /** Points to earn before `at` to hold the current tier there (0: it is held). */
  pointsToKeep: number;
  /** This evaluation moves the member down. */
  willDrop: boolean;
}

export interface TierForecast {
  evaluations: EvaluationForecast[];
  /** Whether any of them moves the member down; the first that does, and to which tier. */
  willDrop: boolean;
  dropTo: Tier | null;
  dropAt: string | null;
}

/** When each of the state's still-counted points leaves, oldest first. */
function pendingExpiries(state: MemberTier, rules: RuleSet): { evaluationAt: number; points: number }[] {
  const { expiring, months, lastEvaluationAsOf } = state;
  // An expiry an evaluation already took off (currentScore) is not pending any more.
  const appliedUpTo =
    expiring && lastEvaluationAsOf && instant(expiring.evaluationAt) <= instant(lastEvaluationAsOf)
      ? instant(expiring.evaluationAt)
      : null;
  const expiries = months
    ? months.map((m) => ({
        evaluationAt: expiryEvaluationOf(m.month, rules.evaluation).getTime(),
        points: m.points,
      }))
    : expiring && expiring.points > 0
      ? [{ evaluationAt: instant(expiring.evaluationAt), points: expiring.points }]
      : [];
  return expiries.filter((e) => appliedUpTo === null || e.evaluationAt > appliedUpTo);
}

/**
 * The coming evaluations without new activity: each one's expiry, projected score and tier, and
 * the points still to earn to hold the current tier there. `evaluations` are the next evaluation
 * instants, oldest first, each with the rule set in force then (its thresholds decide). The first
 * is judged on the state exactly as the evaluation will judge it; each later one on the state the
 * earlier ones leave, with the expiry scoring will announce by then.
 */
export function forecastEvaluations(
  state: MemberTier,
  evaluations: readonly { at: string; rules: RuleSet }[],
): TierForecast {
  const held = state.tier;
  const forecasts: EvaluationForecast[] = [];
  const first = evaluations[0];
  if (!first) return { evaluations: [], willDrop: false, dropTo: null, dropAt: null };
  let expiries = pendingExpiries(state, first.rules);
  let score = currentScore(state);
  let current = state;
  for (const [index, evaluation] of evaluations.entries()) {
    const at = instant(evaluation.at);
    const leaving =
      index === 0
        ? score - effectiveScore(state.score, state.expiring, evaluation.at)
        : expiries.filter((e) => e.evaluationAt <= at).reduce((sum, e) => sum + e.points, 0);
    expiries = expiries.filter((e) => e.evaluationAt > at);
    const judged: MemberTier =
      index === 0
        ? current
        : { ...current, score, expiring: { points: leaving, evaluationAt: evaluation.at } };
    const outcome = evaluateMember(judged, evaluation.at, evaluation.rules.tiers);
    const projectedScore = score - leaving;
    const projectedTier = outcome.state.tier;
    const thresholds: TierThresholds = evaluation.rules.tiers.thresholds;
    forecasts.push({
      at: new Date(at).toISOString(),
      expiringPoints: leaving,
      projectedScore,
      projectedTier,
      pointsToKeep: Math.max(0, thresholds[held] - projectedScore),
      willDrop: outcome.evaluated && outcome.change?.direction === 'down',
    });
    current = { ...outcome.state, score: projectedScore, expiring: null };
    score = projectedScore;
  }
  const firstDrop = forecasts.find((f) => f.willDrop);
  return {
    evaluations: forecasts,
    willDrop: firstDrop !== undefined,
    dropTo: firstDrop ? firstDrop.projectedTier : null,
    dropAt: firstDrop ? firstDrop.at : null,
  };
}
