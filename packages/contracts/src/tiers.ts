import { z } from 'zod';

/** The six tiers, lowest first. Thresholds are rule-set data (`@taobi/rules`), not contract. */
export const TIERS = ['BRONZE', 'SILVER', 'GOLD', 'PLATINUM', 'DIAMOND', 'BLACK_DIAMOND'] as const;
export type Tier = (typeof TIERS)[number];
export const tierSchema = z.enum(TIERS);

export function tierRank(tier: Tier): number {
  return TIERS.indexOf(tier);
}
