import { type ApiResult, memberPages } from '../../upstream/api';
import type { ScoreHistoryAnswer } from '../../upstream/types';
import { card, failureCard, pageLink, scrollTable } from '../../views/components';
import { formatDateTime, formatInteger, formatMoney, statusStyle } from '../../views/format';
import { html, type SafeHtml } from '../../views/html';

/** One page of the member's contributions (scoring's score history), newest first: 10 a page. */
export const loadContributions = memberPages<ScoreHistoryAnswer>('scoring', 'score/history', 10);

const contributionsPage = (memberId: string, cursor: string | undefined, label: string) =>
  pageLink({
    path: '/members/contributions',
    panelId: 'contributions',
    params: { id: memberId, cursor },
    label,
  });

const yuan = (fen: number) => formatMoney({ amount: fen, currency: 'CNY' });

/** The contributions panel; paging replaces the panel in place (htmx) or loads it as a page. */
export function contributionsPanel(
  memberId: string,
  result: ApiResult<ScoreHistoryAnswer>,
  cursor?: string,
): SafeHtml {
  if (!result.ok) {
    return failureCard({ id: 'contributions', title: 'Contributions', wide: true }, result, 'Contributions');
  }
  const { contributions, nextCursor } = result.data;
  const rows = contributions.map(
    (c) => html`<tr>
<td>${formatDateTime(c.occurredAt)}</td>
<td>${c.source}<span class="muted"> · ${c.channel} · ${c.category}</span></td>
<td class="mono">${c.orderId}</td>
<td class="num">${yuan(c.amount)}</td>
<td class="num">${c.refunded > 0 ? yuan(c.refunded) : '—'}</td>
<td class="num">${formatInteger(c.points)}${c.qualifiesForFrequency ? html`<span class="muted" title="also counts for frequency points"> +f</span>` : ''}</td>
<td><span class="pill" style="${statusStyle(c.status)}">${c.status}</span></td>
</tr>`,
  );
  return card({
    id: 'contributions',
    title: 'Contributions',
    wide: true,
    subtitle:
      'Every order and its refunds, newest first. Order points before the monthly caps; +f: counts for frequency points.',
    body: html`${
      contributions.length === 0
        ? html`<p class="muted">No orders${cursor ? ' on this page' : ' yet'}.</p>`
        : scrollTable(
            'Contributions',
            html`<table class="table" data-table="contributions">
<thead><tr><th scope="col">When</th><th scope="col">Line</th><th scope="col">Order</th><th scope="col" class="num">Amount</th><th scope="col" class="num">Refunded</th><th scope="col" class="num">Points</th><th scope="col">Status</th></tr></thead>
<tbody>${rows}</tbody>
</table>`,
          )
    }
<nav class="pager" aria-label="Contributions pages">${cursor ? contributionsPage(memberId, undefined, 'Newest') : ''}${
      nextCursor ? contributionsPage(memberId, nextCursor, 'Older contributions') : ''
    }</nav>`,
  });
}
