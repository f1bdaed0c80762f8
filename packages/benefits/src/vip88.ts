import { type Tier, tierRank } from '@taobi/contracts';
import type { Vip88Rules } from './catalogue-schema';
import { addCalendarMonths } from './periods';

export interface Vip88Quote {
  eligibleForNominalPrice: boolean;
  price: { amount: number; currency: 'CNY' };
}

/** What 88VIP costs a member at `tier` right now: nominal at Platinum and above, standard below. */
export function vip88Quote(rules: Vip88Rules, tier: Tier): Vip88Quote {
  const eligible = tierRank(tier) >= tierRank(rules.minTier);
  return {
    eligibleForNominalPrice: eligible,
    price: { amount: eligible ? rules.nominalPriceFen : rules.standardPriceFen, currency: rules.currency },
  };
}

/** True when moving from `from` to `to` changes the 88VIP price (crosses the minimum tier). */
export function crossesVip88Threshold(rules: Vip88Rules, from: Tier, to: Tier): boolean {
  const bar = tierRank(rules.minTier);
  return tierRank(from) >= bar !== tierRank(to) >= bar;
}

/** The end of a term started at `startsAt`: `termMonths` calendar months later (Asia/Shanghai). */
export function vip88TermEnd(rules: Vip88Rules, startsAt: Date): Date {
  return addCalendarMonths(startsAt, rules.termMonths);
}
