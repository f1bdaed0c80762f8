import type { ApiResult } from '../../upstream/api';
import type { Vip88Answer } from '../../upstream/types';
import { card, failureNotice } from '../../views/components';
import { formatDate, formatMoney } from '../../views/format';
import { html, type SafeHtml } from '../../views/html';

/** 88VIP: the price the member qualifies for now and any running term (entitlement service). */
export function vip88Panel(result: ApiResult<Vip88Answer>): SafeHtml {
  if (!result.ok) return card({ id: 'vip88', title: '88VIP', body: failureNotice(result, '88VIP') });
  const vip = result.data;
  return card({
    id: 'vip88',
    title: '88VIP',
    body: html`<p class="figure"><span class="figure-value" data-field="vip88-price">${formatMoney(vip.price)}</span> <span class="figure-unit">a year</span></p>
<p>${vip.eligibleForNominalPrice ? html`<span class="pill pill-granted">nominal price</span> Platinum and above activate 88VIP at the nominal fee.` : html`<span class="pill">full price</span> The nominal fee needs Platinum.`}</p>
<p data-field="vip88-state">${
      vip.active && vip.activation
        ? html`<strong>Active</strong> since ${formatDate(vip.activation.startsAt)}, until ${formatDate(vip.activation.expiresAt)} (paid ${formatMoney(vip.activation.price)}).`
        : 'Not active.'
    }</p>`,
  });
}
