import type { ApiResult } from '../../upstream/api';
import type { EntitlementsAnswer, TierAnswer, TierTableAnswer, Vip88Answer } from '../../upstream/types';
import { card, failureCard, failureNotice } from '../../views/components';
import { colourStyle, formatInteger, formatMoney, tierName, tierPalette } from '../../views/format';
import { html, type SafeHtml } from '../../views/html';
import { progressBar } from './tier';

/**
 * What the member centre shows the member: tier, score, the bar to the next tier, the benefits
 * they hold now and their 88VIP price. Built only from the same public answers.
 */
export function membersEyePanel(
  tier: ApiResult<TierAnswer>,
  table: ApiResult<TierTableAnswer>,
  entitlements: ApiResult<EntitlementsAnswer>,
  vip88: ApiResult<Vip88Answer>,
): SafeHtml {
  if (!tier.ok) return failureCard({ id: 'members-eye', title: "Member's eye" }, tier, 'The tier');
  const t = tier.data;
  const held = entitlements.ok
    ? [
        ...new Set(
          entitlements.data.entitlements
            .filter((g) => g.status === 'granted')
            .map((g) => g.name ?? g.benefitId),
        ),
      ]
    : [];
  return card({
    id: 'members-eye',
    title: "Member's eye",
    subtitle: 'What the member centre shows',
    body: html`<div class="phone" style="${colourStyle(tierPalette(t.tier))}" data-panel="members-eye">
<p class="phone-label">Super Member</p>
<p class="phone-tier" data-field="eye-tier">${tierName(t.tier)}</p>
<p class="phone-score"><span data-field="eye-score">${formatInteger(t.score)}</span> Taobi points</p>
${progressBar('eye-progress', t, table.ok ? table.data : undefined)}
<p class="phone-vip">88VIP: ${vip88.ok ? html`<strong>${formatMoney(vip88.data.price)}</strong>${vip88.data.active ? ' · active' : ''}` : 'unavailable'}</p>
<h3 class="phone-heading">Your benefits</h3>
${
  entitlements.ok
    ? held.length > 0
      ? html`<ul class="phone-benefits">${held.map((name) => html`<li>${name}</li>`)}</ul>`
      : html`<p class="muted">No benefits yet.</p>`
    : failureNotice(entitlements, 'Benefits')
}
</div>`,
  });
}
