import { TIERS, type Tier } from '@taobi/contracts';
import { type Benefit, type Catalogue, minTierOf, parseCatalogue, qualifies } from './catalogue-schema';
import defaultCatalogueData from './data/catalogue-2026.2.json';
import { vip88Quote } from './vip88';

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

/** What one grant of a benefit costs, in fen: its `unitCostFen`, else a coupon's face value; else unknown. */
export function benefitUnitCost(benefit: Benefit): number | undefined {
  if (benefit.unitCostFen !== undefined) return benefit.unitCostFen;
  return benefit.fulfilment.type === 'coupon' ? benefit.fulfilment.amountOffFen : undefined;
}

/**
 * What a population of members, counted by tier, holds under a catalogue: how many may activate
 * 88VIP at the nominal price, and each benefit's holders (`benefitsAt` of their tier).
 */
export function holdersByBenefit(
  catalogue: Catalogue,
  tiers: Readonly<Record<Tier, number>>,
): { vip88Eligible: number; benefits: Record<string, number> } {
  const benefits: Record<string, number> = Object.fromEntries(catalogue.benefits.map((b) => [b.id, 0]));
  let vip88Eligible = 0;
  for (const tier of TIERS) {
    const members = tiers[tier];
    if (vip88Quote(catalogue.vip88, tier).eligibleForNominalPrice) vip88Eligible += members;
    for (const benefit of benefitsAt(catalogue, tier))
      benefits[benefit.id] = (benefits[benefit.id] ?? 0) + members;
  }
  return { vip88Eligible, benefits };
}
