import type { Tier } from '@taobi/contracts';
import { type Benefit, type Catalogue, minTierOf, parseCatalogue, qualifies } from './catalogue-schema';
import defaultCatalogueData from './data/catalogue-2026.2.json';

/** The catalogue in force, parsed (and so validated) when this module loads. */
export const DEFAULT_CATALOGUE: Catalogue = parseCatalogue(defaultCatalogueData);

export type LotteryBenefit = Extract<Benefit, { kind: 'one-time' }> & {
  fulfilment: Extract<Benefit['fulfilment'], { type: 'lottery' }>;
};

export function findBenefit(catalogue: Catalogue, id: string): Benefit | undefined {
  return catalogue.benefits.find((benefit) => benefit.id === id);
}

/**
 * Everything a member at `tier` holds or may claim, in catalogue order (all kinds): the tier
 * benefits up to `tier`, and the 88VIP bundle when `vip88` (a term runs).
 */
export function benefitsAt(catalogue: Catalogue, tier: Tier, options: { vip88?: boolean } = {}): Benefit[] {
  return catalogue.benefits.filter((benefit) => {
    const minTier = minTierOf(benefit);
    return minTier === null ? options.vip88 === true : qualifies(tier, minTier);
  });
}

/** The 88VIP bundle: the benefits a running term holds, in catalogue order. */
export function vip88Bundle(catalogue: Catalogue): Benefit[] {
  return catalogue.benefits.filter((benefit) => minTierOf(benefit) === null);
}

/** The welcome-gift lottery (the catalogue schema guarantees there is exactly one). */
export function welcomeGift(catalogue: Catalogue): LotteryBenefit {
  const found = catalogue.benefits.find((benefit) => benefit.fulfilment.type === 'lottery');
  if (!found) throw new Error('the catalogue has no lottery benefit');
  return found as LotteryBenefit;
}

/** True for a benefit that a tier change grants as a row (tier benefits but offers and the lottery). */
export function grantedOnTierChange(benefit: Benefit): boolean {
  return benefit.kind !== 'offer' && benefit.fulfilment.type !== 'lottery' && minTierOf(benefit) !== null;
}
