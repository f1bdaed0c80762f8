/**
 * The numbers of the Taobi Score. OWNED BY THE SCORING WORK (issue 4): the shape and the values
 * below are a starting point to be designed, tuned and documented there.
 */
export interface ScoreRules {
  /** Every member's score before any spending. */
  baseScore: number;
}

export const DEFAULT_SCORE_RULES: ScoreRules = {
  baseScore: 300,
};
