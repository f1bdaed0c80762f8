import type { ApiResult } from '../../upstream/api';
import type { Offer, OffersAnswer } from '../../upstream/types';
import { card, failureCard } from '../../views/components';
import { formatDate, formatInteger, tierName, toneStyle } from '../../views/format';
import { html, type SafeHtml } from '../../views/html';

/** Who an offer is for, in words: "Gold and above", "Diamond, Black Diamond · 88VIP · on meal". */
export function audienceText(offer: Offer): string {
  const audience = offer.audience ?? {};
  const parts = [
    audience.minTier ? `${tierName(audience.minTier)} and above` : '',
    audience.tiers?.length ? audience.tiers.map(tierName).join(', ') : '',
    audience.vip88 ? '88VIP members' : '',
    audience.categories?.length ? `on ${audience.categories.join(', ')}` : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(' · ') : 'every member';
}

function offerItem(offer: Offer): SafeHtml {
  const merchant = offer.source === 'merchant';
  const meta = [
    merchant ? `Merchant ${offer.merchantId ?? ''}` : 'Programme',
    `for ${audienceText(offer)}`,
    merchant && offer.remaining !== undefined ? `${formatInteger(offer.remaining)} left` : '',
    offer.validTo ? `until ${formatDate(offer.validTo)}` : '',
  ].filter(Boolean);
  return html`<li data-offer="${offer.id}" data-source="${offer.source}"><strong>${offer.title}</strong>${
    offer.percentOff
      ? html` <span class="pill" style="${toneStyle('ok')}" data-field="percent-off">${offer.percentOff}% off</span>`
      : ''
  }<br><span class="muted" data-field="audience">${meta.join(' · ')}</span></li>`;
}

/**
 * What the member qualifies for now (entitlement service): the programme's offers of their tier and,
 * during an 88VIP term, of the bundle; then merchants' live offers whose audience holds the member.
 */
export function offersPanel(result: ApiResult<OffersAnswer>): SafeHtml {
  if (!result.ok) return failureCard({ id: 'offers', title: 'Offers' }, result, 'Offers');
  const { offers } = result.data;
  const holder = `${tierName(result.data.tier)}${result.data.vip88 ? ' with 88VIP' : ''}`;
  return card({
    id: 'offers',
    title: 'Offers',
    subtitle: `What ${holder} qualifies for now`,
    body:
      offers.length === 0
        ? html`<p class="muted">No offers for this member right now.</p>`
        : html`<ul class="list" data-list="offers">${offers.map(offerItem)}</ul>`,
  });
}
