import { TIERS, type Tier, tierRank } from '@taobi/contracts';
import type { Month } from './calendar';
import type { RuleSet } from './rule-set';
import type { MonthPoints } from './score-window';

/**
 * The tier policy as pure functions over rule-set data (docs/design.md, "Tiers"):
 * - an upgrade is immediate when a score change crosses a threshold, possibly several tiers at once;
 * - a score below the current tier's threshold never downgrades mid-month: it marks the downgrade
 *   pending, and climbing back clears it;
 * - only the monthly evaluation moves a member down, to the tier the score supports or one tier at a
 *   time (`RuleSet.tiers.downgrade`), at most once per evaluation.
 *
 * Scoring and tier both evaluate at the same instant and neither waits for the other, so what expires
 * at an evaluation is taken from the forecast every score change carries
 * (`expiringAtNextEvaluation`): see `effectiveScore`.
 */
export type TierRules = RuleSet['tiers'];
export type TierThresholds = TierRules['thresholds'];

export interface TierRow {
  tier: Tier;
  rank: number;
  /** The lowest score of the tier. */
  threshold: number;
}

/** Thresholds must start at 0 (every member has a tier) and rise strictly with the tier order. */
export function assertValidThresholds(thresholds: TierThresholds): void {
  if (thresholds.BRONZE !== 0) throw new RangeError('the BRONZE threshold must be 0');
  for (let rank = 1; rank < TIERS.length; rank += 1) {
    const lower = TIERS[rank - 1] as Tier;
    const tier = TIERS[rank] as Tier;
    if (!(thresholds[tier] > thresholds[lower]) || !Number.isInteger(thresholds[tier])) {
      throw new RangeError(`the ${tier} threshold must be an integer above the ${lower} threshold`);
    }
  }
}

/** The tier table, lowest tier first. */
export function tierTable(thresholds: TierThresholds): TierRow[] {
  return TIERS.map((tier, rank) => ({ tier, rank, threshold: thresholds[tier] }));
}

/** The highest tier whose threshold the score reaches. */
export function tierForScore(score: number, thresholds: TierThresholds): Tier {
  let found: Tier = 'BRONZE';
  for (const tier of TIERS) if (score >= thresholds[tier]) found = tier;
  return found;
}

/** The tier above `tier` with its threshold, or null at the top. */
export function nextTier(tier: Tier, thresholds: TierThresholds): { tier: Tier; threshold: number } | null {
  const next = TIERS[tierRank(tier) + 1];
  return next ? { tier: next, threshold: thresholds[next] } : null;
}

/** What a member centre shows as "next": the tier above the one held and the points still missing. */
export function progressToNextTier(
  tier: Tier,
  score: number,
  thresholds: TierThresholds,
): { tier: Tier; threshold: number; pointsNeeded: number } | null {
  const next = nextTier(tier, thresholds);
  return next ? { ...next, pointsNeeded: Math.max(0, next.threshold - score) } : null;
}

/** Points scoring said will expire at its next evaluation (`expiringAtNextEvaluation`). */
export interface ExpiringPoints {
  points: number;
  /** ISO-8601 instant of the evaluation that expires them. */
  evaluationAt: string;
}

const instant = (iso: string) => Date.parse(iso);

/**
 * The score as it stands once the evaluation at `asOf` has happened. Scoring's records carry the
 * points its next evaluation will expire; if that evaluation is at or before `asOf`, the expiry has
 * not reached us yet (scoring's `monthly-evaluation` record may still be on its way) and is taken off
 * here; if it is later, the record was written after that evaluation and already reflects it.
 * `asOf` null (no evaluation applied yet) means the raw score.
 */
export function effectiveScore(score: number, expiring: ExpiringPoints | null, asOf: string | null): number {
  if (!expiring || asOf === null) return score;
  return instant(expiring.evaluationAt) <= instant(asOf) ? Math.max(0, score - expiring.points) : score;
}

/** Everything the tier service keeps about one member. Times are ISO-8601 strings. */
export interface MemberTier {
  memberId: string;
  tier: Tier;
  /** When the member entered the tier (or was first seen, for BRONZE). */
  since: string;
  /** The raw score of the last applied score-changed record. */
  score: number;
  /** The last applied score-changed version; 0 before the first. */
  scoreVersion: number;
  expiring: ExpiringPoints | null;
  /**
   * The points per month still counted, from the last applied record (`pointsByMonth`); null when
   * that record did not carry them (written before the field existed). Explains what an evaluation
   * expires and forecasts evaluations beyond the next.
   */
  months?: MonthPoints[] | null;
  /**
   * The months scoring's last evaluation record took out (those of the previous record's
   * `pointsByMonth` before the new window start): when that record arrives before tier's own
   * evaluation, the decision still names what expired.
   */
  lastExpiry?: { windowFrom: Month; months: MonthPoints[] } | null;
  /** The score no longer holds the tier; the next evaluation moves the member down. */
  downgradePending: boolean;
  /** The `asOf` of the last evaluation applied to this member; null before the first. */
  lastEvaluationAsOf: string | null;
  /**
   * When the member was last placed or raised (the causing score change's `occurredAt`): a refund
   * within the clawback window after it may take the tier back at once. Null when not known.
   */
  upgradedAt: string | null;
}

/** A member the service has never seen: BRONZE at the base score, with no history. */
export function unseenMember(memberId: string, baseScore: number, since: string): MemberTier {
  return {
    memberId,
    tier: 'BRONZE',
    since,
    score: baseScore,
    scoreVersion: 0,
    expiring: null,
    downgradePending: false,
    lastEvaluationAsOf: null,
    upgradedAt: null,
  };
}

export type TierChangeCause = { kind: 'score'; version: number } | { kind: 'evaluation'; asOf: string };

export interface TierChange {
  memberId: string;
  /** Null for a member's first assignment (direction `initial`). */
  previousTier: Tier | null;
  tier: Tier;
  direction: 'initial' | 'up' | 'down';
  reason: 'first-score' | 'score-increase' | 'monthly-evaluation' | 'refund-clawback';
  /** The score the decision was made on (the effective score, see `effectiveScore`). */
  score: number;
  scoreVersion: number;
  occurredAt: string;
  cause: TierChangeCause;
}

/** The part of a score-changed record the policy reads. */
export interface ScoreUpdate {
  version: number;
  score: number;
  occurredAt: string;
  expiringAtNextEvaluation: ExpiringPoints;
  pointsByMonth?: MonthPoints[] | undefined;
  /** Why scoring wrote it, and the window it covers (what an evaluation record expired). */
  reason?: string;
  window?: { from: Month; to: Month };
  /** The refunds that caused the change (absent or empty: the change came from no refund). */
  refundEventIds?: readonly string[] | undefined;
}

const DAY_MS = 24 * 3600_000;

/**
 * True when a refund takes back a recent upgrade: the change comes from a refund, the member was
 * placed or raised at most `clawbackDays` before it, and the score no longer reaches the tier.
 */
function clawsBack(state: MemberTier, update: ScoreUpdate, supported: Tier, clawbackDays: number): boolean {
  if (clawbackDays <= 0 || (update.refundEventIds?.length ?? 0) === 0 || state.upgradedAt === null)
    return false;
  const sinceUpgrade = instant(update.occurredAt) - instant(state.upgradedAt);
  return sinceUpgrade <= clawbackDays * DAY_MS && tierRank(supported) < tierRank(state.tier);
}

export type ScoreOutcome =
  | { applied: false; state: MemberTier }
  | { applied: true; state: MemberTier; change: TierChange | null };

function pendingFor(tier: Tier, score: number, thresholds: TierThresholds): boolean {
  return tierRank(tierForScore(score, thresholds)) < tierRank(tier);
}

function later(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return instant(a) >= instant(b) ? a : b;
}

/**
 * Applies one score change. A version at or below the one applied is late or repeated and changes
 * nothing. The member's first score change (none applied yet) places them: one `initial` change to
 * the tier the score supports, Bronze included, so every member is announced once. After that, a
 * score supporting a higher tier upgrades at once (one change, however many thresholds it crosses);
 * a score below the tier's threshold only marks the downgrade pending, unless a **refund** brought
 * it there within `clawbackDays` of the last placement or upgrade: then the tier goes back at once to
 * the one the remaining points support (`refund-clawback`), so buying a tier and refunding the
 * purchase does not keep it until the evaluation.
 *
 * `evaluationStartedAsOf` is the latest evaluation the service has started: a record written by
 * scoring before that evaluation still counts the points it expires, so they are taken off (a late
 * pre-evaluation record must not upgrade a member the evaluation is moving down).
 */
export function applyScoreUpdate(
  state: MemberTier,
  update: ScoreUpdate,
  rules: TierRules,
  evaluationStartedAsOf: string | null = null,
  clawbackDays = 0,
): ScoreOutcome {
  if (update.version <= state.scoreVersion) return { applied: false, state };
  const asOf = later(state.lastEvaluationAsOf, evaluationStartedAsOf);
  const score = effectiveScore(update.score, update.expiringAtNextEvaluation, asOf);
  const supported = tierForScore(score, rules.thresholds);
  const base: MemberTier = {
    ...state,
    score: update.score,
    scoreVersion: update.version,
    expiring: update.expiringAtNextEvaluation,
    months: update.pointsByMonth ?? null,
    lastExpiry:
      update.reason === 'monthly-evaluation' && update.window
        ? {
            windowFrom: update.window.from,
            months: (state.months ?? []).filter((m) => m.month < (update.window?.from ?? m.month)),
          }
        : (state.lastExpiry ?? null),
  };
  /** A move to the supported tier now, on this score change. */
  const moveTo = (
    direction: TierChange['direction'],
    reason: TierChange['reason'],
    previousTier: Tier | null,
    extra: Partial<MemberTier> = {},
  ): ScoreOutcome => ({
    applied: true,
    state: { ...base, tier: supported, since: update.occurredAt, downgradePending: false, ...extra },
    change: {
      memberId: state.memberId,
      previousTier,
      tier: supported,
      direction,
      reason,
      score,
      scoreVersion: update.version,
      occurredAt: update.occurredAt,
      cause: { kind: 'score', version: update.version },
    },
  });
  if (state.scoreVersion === 0) {
    return moveTo('initial', 'first-score', null, { upgradedAt: update.occurredAt });
  }
  if (tierRank(supported) > tierRank(state.tier)) {
    return moveTo('up', 'score-increase', state.tier, { upgradedAt: update.occurredAt });
  }
  if (clawsBack(state, update, supported, clawbackDays)) return moveTo('down', 'refund-clawback', state.tier);
  return {
    applied: true,
    state: { ...base, downgradePending: pendingFor(state.tier, score, rules.thresholds) },
    change: null,
  };
}

export type EvaluationOutcome =
  | { evaluated: false; state: MemberTier }
  | { evaluated: true; state: MemberTier; change: TierChange | null };

/**
 * The monthly evaluation of one member as of `asOf`. A member already evaluated at or after `asOf`
 * is left alone, so running an evaluation twice (or resuming one) never moves anyone twice, also
 * under "one tier at a time". The evaluation only moves members down: upgrades never wait for it.
 */
export function evaluateMember(state: MemberTier, asOf: string, rules: TierRules): EvaluationOutcome {
  if (state.lastEvaluationAsOf !== null && instant(state.lastEvaluationAsOf) >= instant(asOf)) {
    return { evaluated: false, state };
  }
  const forecast = effectiveScore(state.score, state.expiring, asOf);
  const supported = tierForScore(forecast, rules.thresholds);
  const evaluated: MemberTier = { ...state, lastEvaluationAsOf: asOf };
  if (tierRank(supported) >= tierRank(state.tier)) {
    return { evaluated: true, state: { ...evaluated, downgradePending: false }, change: null };
  }
  const target =
    rules.downgrade === 'one-tier-at-a-time' ? (TIERS[tierRank(state.tier) - 1] as Tier) : supported;
  const change: TierChange = {
    memberId: state.memberId,
    previousTier: state.tier,
    tier: target,
    direction: 'down',
    reason: 'monthly-evaluation',
    score: forecast,
    scoreVersion: state.scoreVersion,
    occurredAt: asOf,
    cause: { kind: 'evaluation', asOf },
  };
  return {
    evaluated: true,
    state: {
      ...evaluated,
      tier: target,
      since: asOf,
      downgradePending: pendingFor(target, forecast, rules.thresholds),
    },
    change,
  };
}

/**
 * What the member must keep: at the evaluation `evaluationAt`, the score the member is forecast to
 * have (without new spending) and the points still needed by then to keep the current tier.
 */
export function retentionOutlook(
  state: MemberTier,
  evaluationAt: string,
  thresholds: TierThresholds,
): { expiringPoints: number; forecastScore: number; pointsNeeded: number } {
  const now = effectiveScore(state.score, state.expiring, state.lastEvaluationAsOf);
  const forecastScore = effectiveScore(state.score, state.expiring, evaluationAt);
  return {
    expiringPoints: now - forecastScore,
    forecastScore,
    pointsNeeded: Math.max(0, thresholds[state.tier] - forecastScore),
  };
}

/** The score the member holds now, with an expiry already applied by a past evaluation taken off. */
export function currentScore(state: MemberTier): number {
  return effectiveScore(state.score, state.expiring, state.lastEvaluationAsOf);
}
