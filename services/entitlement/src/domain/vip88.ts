import { type Catalogue, type TierChangePlan, vip88Quote } from '@taobi/benefits';
import type { Tier } from '@taobi/contracts';
import type { OutboxRecord } from '@taobi/platform';
import type { Vip88ActivationRow } from '../store/vip88';
import { entitlementRecord, stableEventId } from './records';

/** `eligibility-changed`, published when a tier change crosses the 88VIP tier, keyed by its cause. */
export function eligibilityChangedRecord(
  catalogue: Catalogue,
  change: {
    memberId: string;
    tierEventId: string;
    to: Tier;
    occurredAt: Date;
    vip88: TierChangePlan['vip88'];
  },
): OutboxRecord {
  return entitlementRecord({
    eventId: stableEventId('vip88-eligibility', change.memberId, change.tierEventId),
    memberId: change.memberId,
    benefitId: catalogue.vip88.benefitId,
    benefitKind: 'membership',
    action: 'eligibility-changed',
    tier: change.to,
    period: null,
    occurredAt: change.occurredAt,
    details: {
      eligibleForNominalPrice: change.vip88.quote.eligibleForNominalPrice,
      price: change.vip88.quote.price,
      previousPrice: change.vip88.previousQuote.price,
      tierChangeEventId: change.tierEventId,
    },
  });
}

export function activationView(row: Vip88ActivationRow) {
  return {
    id: row.id,
    memberId: row.member_id,
    tier: row.tier,
    price: { amount: row.price_fen, currency: row.currency },
    startsAt: row.starts_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    catalogueVersion: row.catalogue_version,
  };
}

export function activatedRecord(row: Vip88ActivationRow, benefitId: string): OutboxRecord {
  return entitlementRecord({
    eventId: stableEventId('vip88-activated', row.id),
    memberId: row.member_id,
    benefitId,
    benefitKind: 'membership',
    action: 'activated',
    tier: row.tier,
    period: null,
    occurredAt: row.starts_at,
    details: activationView(row),
  });
}

/** GET /v1/members/:id/vip88: the price the member qualifies for now, and any active term. */
export function vip88View(
  catalogue: Catalogue,
  memberId: string,
  tier: Tier,
  active: Vip88ActivationRow | undefined,
) {
  const quote = vip88Quote(catalogue.vip88, tier);
  return {
    memberId,
    tier,
    eligibleForNominalPrice: quote.eligibleForNominalPrice,
    price: quote.price,
    active: active !== undefined,
    expiresAt: active ? active.expires_at.toISOString() : null,
    activation: active ? activationView(active) : null,
  };
}
