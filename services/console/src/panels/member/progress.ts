import type { TierAnswer, TierTableAnswer } from '../../upstream/types';

export interface NextTierProgress {
  /** The next tier, or undefined at the top. */
  next?: string;
  /** Points earned since the current tier's threshold, and the width of the band to the next one. */
  value: number;
  max: number;
  pointsNeeded: number;
  percent: number;
}

/**
 * How far the member is from the next tier, as the tier API answers it: the band runs from the
 * current tier's threshold to the next tier's, and the tier API's `pointsNeeded` is what is left.
 */
export function nextTierProgress(tier: TierAnswer, table: TierTableAnswer | undefined): NextTierProgress {
  if (!tier.next) return { value: 1, max: 1, pointsNeeded: 0, percent: 100 };
  const floor = table?.tiers.find((row) => row.tier === tier.tier)?.threshold ?? 0;
  const max = Math.max(1, tier.next.threshold - floor);
  const value = Math.min(max, Math.max(0, max - tier.next.pointsNeeded));
  return {
    next: tier.next.tier,
    value,
    max,
    pointsNeeded: tier.next.pointsNeeded,
    percent: Math.floor((value / max) * 100),
  };
}
