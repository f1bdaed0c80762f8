import type { ApiResult } from '../../upstream/api';
import type { OffersAnswer } from '../../upstream/types';
import { card, failureNotice } from '../../views/components';
import { formatDate, tierName } from '../../views/format';
import { html, type SafeHtml } from '../../views/html';

/** Programme and merchant offers the member qualifies for now (entitlement service). */
export function offersPanel(result: ApiResult<OffersAnswer>): SafeHtml {
  if (!result.ok) return card({ id: 'offers', title: 'Offers', body: failureNotice(result, 'Offers') });
  const { offers } = result.data;
  return card({
    id: 'offers',
    title: 'Offers',
    subtitle: `What ${tierName(result.data.tier)} qualifies for now`,
    body:
      offers.length === 0
        ? html`<p class="muted">No offers for this tier right now.</p>`
        : html`<ul class="list" data-list="offers">${offers.map(
            (o) =>
              html`<li><strong>${o.title}</strong>${
                o.discount?.percentOff
                  ? html` <span class="pill pill-granted">${o.discount.percentOff}% off</span>`
                  : ''
              }<br><span class="muted">${o.source === 'merchant' ? `Merchant ${o.merchantId ?? ''}` : 'Programme'}${
                o.minTier ? ` · ${tierName(o.minTier)} and above` : ''
              }${o.validTo ? ` · until ${formatDate(o.validTo)}` : ''}</span></li>`,
          )}</ul>`,
  });
}
