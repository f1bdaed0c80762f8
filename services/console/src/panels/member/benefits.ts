import type { ApiResult } from '../../upstream/api';
import type { Entitlement, EntitlementsAnswer } from '../../upstream/types';
import { card, failureCard, scrollTable } from '../../views/components';
import { formatDate, statusStyle, tierName, toneStyle } from '../../views/format';
import { html, type SafeHtml } from '../../views/html';

function grantsTable(label: string, key: string, grants: Entitlement[], when: (g: Entitlement) => SafeHtml) {
  if (grants.length === 0) return html`<p class="muted" data-table="${key}">None.</p>`;
  return scrollTable(
    label,
    html`<table class="table" data-table="${key}">
<thead><tr><th scope="col">Benefit</th><th scope="col">Kind</th><th scope="col">Tier</th><th scope="col">Granted</th><th scope="col">Status</th></tr></thead>
<tbody>${grants.map(
      (g) => html`<tr>
<td>${g.name ?? g.benefitId}${g.vip88ActivationId ? html` <span class="pill" style="${toneStyle('info')}" data-field="vip88-bundle">88VIP</span>` : ''}${g.period ? html`<span class="muted"> · ${g.period}</span>` : ''}</td>
<td>${g.kind}</td>
<td>${tierName(g.tier)}</td>
<td>${formatDate(g.grantedAt)}</td>
<td><span class="pill" style="${statusStyle(g.status)}">${g.status}</span> ${when(g)}</td>
</tr>`,
    )}</tbody></table>`,
  );
}

/**
 * Benefits held, revoked, and used or expired (entitlement service), newest first; those of an 88VIP
 * term's bundle are marked.
 */
export function benefitsPanel(result: ApiResult<EntitlementsAnswer>): SafeHtml {
  if (!result.ok) return failureCard({ id: 'benefits', title: 'Benefits', wide: true }, result, 'Benefits');
  const all = result.data.entitlements;
  const held = all.filter((g) => g.status === 'granted');
  const revoked = all.filter((g) => g.status === 'revoked');
  const past = all.filter((g) => g.status === 'used' || g.status === 'expired');
  return card({
    id: 'benefits',
    title: 'Benefits',
    wide: true,
    subtitle: `${held.length} held · ${revoked.length} revoked · ${past.length} used or expired${
      result.data.nextBefore ? ' (latest 200 grants)' : ''
    }`,
    body: html`<h3>Held</h3>
${grantsTable('Benefits held', 'held', held, (g) => html`<span class="muted">${g.expiresAt ? `until ${formatDate(g.expiresAt)}` : ''}</span>`)}
<h3>Revoked</h3>
${grantsTable('Benefits revoked', 'revoked', revoked, (g) => html`<span class="muted">${formatDate(g.revokedAt)}</span>`)}
<details><summary>Used or expired (${past.length})</summary>
${grantsTable('Benefits used or expired', 'past', past, (g) => html`<span class="muted">${formatDate(g.usedAt ?? g.expiredAt ?? g.expiresAt)}</span>`)}
</details>`,
  });
}
