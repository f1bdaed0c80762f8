import type { Tier } from '@taobi/contracts';
import { DEFAULT_SCORE_RULES, type ScoreRules } from './score-rules';

/**
 * A versioned rule set: every number the domain rules use, as data. A score or tier records the
 * version that produced it; a rebuild replays the ledger under the current version.
 */
export interface RuleSet {
  version: string;
  score: ScoreRules;
  tiers: {
    /** The lowest score of each tier. BRONZE is 0; PLATINUM is 1000 (88VIP's historical bar). */
    thresholds: Record<Tier, number>;
    /**
     * At the monthly evaluation, a member whose score no longer holds the tier moves down either
     * straight to the tier the score supports, or one tier per evaluation.
     */
    downgrade: 'to-supported-tier' | 'one-tier-at-a-time';
  };
  evaluation: {
    /** Day of the month (Asia/Shanghai) the monthly evaluation runs at 00:00. */
    dayOfMonth: number;
    /** Calendar months a contribution counts for. */
    windowMonths: number;
  };
}

export const DEFAULT_RULE_SET: RuleSet = {
  version: '2026.1',
  score: DEFAULT_SCORE_RULES,
  tiers: {
    thresholds: { BRONZE: 0, SILVER: 400, GOLD: 700, PLATINUM: 1000, DIAMOND: 2500, BLACK_DIAMOND: 5000 },
    downgrade: 'to-supported-tier',
  },
  evaluation: { dayOfMonth: 8, windowMonths: 12 },
};
