import type { Tier } from '@taobi/contracts';
import { type Benefit, type Catalogue, parseCatalogue, qualifies } from './catalogue-schema';
import defaultCatalogueData from './data/catalogue-2026.1.json';

/** The catalogue in force, parsed (and so validated) when this module loads. */
export const DEFAULT_CATALOGUE: Catalogue = parseCatalogue(defaultCatalogueData);

export type LotteryBenefit = Extract<Benefit, { kind: 'one-time' }> & {
  fulfilment: Extract<Benefit['fulfilment'], { type: 'lottery' }>;
};

export function findBenefit(catalogue: Catalogue, id: string): Benefit | undefined {
  return catalogue.benefits.find((benefit) => benefit.id === id);
}

/** Everything a member at `tier` holds or may claim, in catalogue order (all kinds). */
export function benefitsAt(catalogue: Catalogue, tier: Tier): Benefit[] {
  return catalogue.benefits.filter((benefit) => qualifies(tier, benefit.minTier));
}

/** The welcome-gift lottery (the catalogue schema guarantees there is exactly one). */
export function welcomeGift(catalogue: Catalogue): LotteryBenefit {
  const found = catalogue.benefits.find((benefit) => benefit.fulfilment.type === 'lottery');
  if (!found) throw new Error('the catalogue has no lottery benefit');
  return found as LotteryBenefit;
}

/** True for a benefit that a tier change grants as a row (not offers, not the lottery). */
export function grantedOnTierChange(benefit: Benefit): boolean {
  return benefit.kind !== 'offer' && benefit.fulfilment.type !== 'lottery';
}
