import type { ApiResult } from '../../upstream/api';
import type { Entitlement, Vip88Answer } from '../../upstream/types';
import { card, failureCard } from '../../views/components';
import { formatDate, formatMoney, statusStyle, toneStyle } from '../../views/format';
import { html, type SafeHtml } from '../../views/html';

/** The running term's bundle: each benefit the term granted, with its state. */
function bundleList(bundle: readonly Entitlement[]): SafeHtml {
  if (bundle.length === 0)
    return html`<p class="muted" data-list="vip88-bundle">The term's bundle is empty.</p>`;
  return html`<h3>88VIP bundle</h3>
<ul class="list" data-list="vip88-bundle">${bundle.map(
    (g) =>
      html`<li data-benefit="${g.benefitId}">${g.name ?? g.benefitId} <span class="pill" style="${statusStyle(g.status)}">${g.status}</span><br><span class="muted">${g.kind}${g.period ? ` · ${g.period}` : ''}${g.expiresAt ? ` · until ${formatDate(g.expiresAt)}` : ''}</span></li>`,
  )}</ul>`;
}

/** 88VIP: the price the member qualifies for now, any running term and its bundle (entitlement service). */
export function vip88Panel(result: ApiResult<Vip88Answer>): SafeHtml {
  if (!result.ok) return failureCard({ id: 'vip88', title: '88VIP' }, result, '88VIP');
  const vip = result.data;
  const running = vip.active && vip.activation;
  return card({
    id: 'vip88',
    title: '88VIP',
    body: html`<p class="figure"><span class="figure-value" data-field="vip88-price">${formatMoney(vip.price)}</span> <span class="figure-unit">a year</span></p>
<p>${vip.eligibleForNominalPrice ? html`<span class="pill" style="${toneStyle('ok')}">nominal price</span> Platinum and above activate 88VIP at the nominal fee.` : html`<span class="pill">full price</span> The nominal fee needs Platinum.`}</p>
<p data-field="vip88-state">${
      running
        ? html`<strong>Active</strong> since ${formatDate(running.startsAt)}, until ${formatDate(running.expiresAt)} (paid ${formatMoney(running.price)}).`
        : 'Not active.'
    }</p>${running && vip.bundle ? bundleList(vip.bundle) : ''}`,
  });
}
