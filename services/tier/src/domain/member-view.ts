import type { Tier } from '@taobi/contracts';
import {
  currentScore,
  type MemberTier,
  nextEvaluationAt,
  progressToNextTier,
  type RuleSet,
  retentionOutlook,
} from '@taobi/rules';

/** `GET /v1/members/:id/tier`: what a member centre shows. */
export interface MemberTierView {
  memberId: string;
  tier: Tier;
  score: number;
  /** When the member entered the tier; null for a member never seen. */
  since: string | null;
  next: { tier: Tier; threshold: number; pointsNeeded: number } | null;
  /** The score is already below the tier's threshold: the next evaluation moves the member down. */
  downgradePending: boolean;
  /** What the member must keep to stay in the tier at the next evaluation. */
  keep: {
    tier: Tier;
    threshold: number;
    evaluationAt: string;
    /** Points scoring said expire at that evaluation (0 when none or not known yet). */
    expiringPoints: number;
    /** The score at that evaluation without new spending. */
    forecastScore: number;
    /** Points to earn before then to keep the tier (0: it is safe). */
    pointsNeeded: number;
  };
  scoreVersion: number;
  ruleVersion: string;
}

/**
 * Builds the member view at `now`. The next evaluation is the first after `now`, or after the last
 * evaluation applied to the member when an admin has already run a later one.
 */
export function memberTierView(
  state: MemberTier,
  options: { ruleSet: RuleSet; now: Date; seen: boolean },
): MemberTierView {
  const { thresholds } = options.ruleSet.tiers;
  const score = currentScore(state);
  const after =
    state.lastEvaluationAsOf && Date.parse(state.lastEvaluationAsOf) > options.now.getTime()
      ? new Date(state.lastEvaluationAsOf)
      : options.now;
  const evaluationAt = nextEvaluationAt(after, options.ruleSet.evaluation.dayOfMonth).toISOString();
  return {
    memberId: state.memberId,
    tier: state.tier,
    score,
    since: options.seen ? state.since : null,
    next: progressToNextTier(state.tier, score, thresholds),
    downgradePending: state.downgradePending,
    keep: {
      tier: state.tier,
      threshold: thresholds[state.tier],
      evaluationAt,
      ...retentionOutlook(state, evaluationAt, thresholds),
    },
    scoreVersion: state.scoreVersion,
    ruleVersion: options.ruleSet.version,
  };
}
