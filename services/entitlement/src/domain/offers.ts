import type { Tier } from '@taobi/contracts';
import type { OutboxRecord } from '@taobi/platform';
import type { OfferRow, RedemptionRow } from '../store/offers';
import { entitlementRecord, stableEventId } from './records';

export type OfferStatus = 'scheduled' | 'live' | 'exhausted' | 'ended' | 'withdrawn';

/** Where an offer stands at `now`, as its merchant sees it. */
export function offerStatus(row: OfferRow, now: Date): OfferStatus {
  if (row.withdrawn_at) return 'withdrawn';
  if (row.valid_to.getTime() <= now.getTime()) return 'ended';
  if (row.valid_from.getTime() > now.getTime()) return 'scheduled';
  return row.redeemed >= row.budget ? 'exhausted' : 'live';
}

export function offerView(row: OfferRow, now: Date) {
  return {
    id: row.id,
    source: 'merchant' as const,
    merchantId: row.merchant_id,
    shopId: row.shop_id,
    title: row.title,
    description: row.description,
    percentOff: row.percent_off,
    audience: {
      tiers: row.audience_tiers,
      categories: row.audience_categories,
      vip88: row.audience_vip88,
    },
    validFrom: row.valid_from.toISOString(),
    validTo: row.valid_to.toISOString(),
    budget: row.budget,
    redeemed: row.redeemed,
    remaining: row.budget - row.redeemed,
    status: offerStatus(row, now),
    createdAt: row.created_at.toISOString(),
    withdrawnAt: row.withdrawn_at?.toISOString() ?? null,
  };
}

/**
 * Why a member at `tier` (holding an 88VIP term or not) may not redeem the offer, or null when
 * they may. Categories do not restrict who redeems: they say which purchases the offer applies to.
 */
export function ineligibility(row: OfferRow, tier: Tier, holdsVip88: boolean): string | null {
  if (row.audience_tiers && !row.audience_tiers.includes(tier)) {
    return `the offer is for ${row.audience_tiers.join(', ')} members; the member is ${tier}`;
  }
  if (row.audience_vip88 && !holdsVip88)
    return 'the offer is for 88VIP members; the member holds no running term';
  return null;
}

/** `published` or `withdrawn`: about the offer, keyed by its merchant, with no member. */
export function offerRecord(row: OfferRow, action: 'published' | 'withdrawn', now: Date): OutboxRecord {
  return entitlementRecord({
    eventId: stableEventId(`offer-${action}`, row.id),
    memberId: null,
    benefitId: row.id,
    benefitKind: 'offer',
    action,
    tier: null,
    period: null,
    occurredAt: action === 'withdrawn' ? (row.withdrawn_at ?? now) : row.created_at,
    merchantId: row.merchant_id,
    details: offerView(row, now),
  });
}

export function redemptionView(redemption: RedemptionRow, offer: OfferRow) {
  return {
    id: redemption.id,
    offerId: redemption.offer_id,
    memberId: redemption.member_id,
    merchantId: offer.merchant_id,
    tier: redemption.tier,
    percentOff: offer.percent_off,
    redeemedAt: redemption.redeemed_at.toISOString(),
  };
}

/** `redeemed`: a member redeemed an offer; keyed by the member, naming the merchant. */
export function redeemedRecord(redemption: RedemptionRow, offer: OfferRow): OutboxRecord {
  return entitlementRecord({
    eventId: stableEventId('offer-redeemed', redemption.id),
    memberId: redemption.member_id,
    benefitId: offer.id,
    benefitKind: 'offer',
    action: 'redeemed',
    tier: redemption.tier,
    period: null,
    occurredAt: redemption.redeemed_at,
    merchantId: offer.merchant_id,
    details: { ...redemptionView(redemption, offer), budget: offer.budget, redeemed: offer.redeemed },
  });
}
