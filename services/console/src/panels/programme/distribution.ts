import type { ApiResult } from '../../upstream/api';
import type { DistributionAnswer } from '../../upstream/types';
import { card, chart, failureCard, scrollTable } from '../../views/components';
import { colourStyle, formatDateTime, formatInteger, tierName, tierPalette } from '../../views/format';
import { html, type SafeHtml } from '../../views/html';

/** Members per tier (tier's `GET /v1/tiers/distribution`) as a bar chart and a table. */
export function distributionPanel(result: ApiResult<DistributionAnswer>): SafeHtml {
  if (!result.ok) {
    return failureCard(
      { id: 'distribution', title: 'Members per tier', wide: true },
      result,
      'The distribution',
    );
  }
  const { tiers, total } = result.data;
  const share = (members: number) => (total > 0 ? `${((members / total) * 100).toFixed(1)}%` : '—');
  return card({
    id: 'distribution',
    title: 'Members per tier',
    wide: true,
    subtitle: html`<span data-field="members-total">${formatInteger(total)}</span> ${total === 1 ? 'member' : 'members'} seen${
      result.data.asOf ? ` · as of ${formatDateTime(result.data.asOf)}` : ''
    }`,
    body: html`<div class="split split-chart">
${chart({
  id: 'distribution-chart',
  label: 'Members per tier',
  type: 'bar',
  labels: tiers.map((row) => tierName(row.tier)),
  datasets: [{ label: 'Members', data: tiers.map((row) => row.members) }],
  colors: tiers.map((row) => `--${tierPalette(row.tier)}`),
})}
${scrollTable(
  'Members per tier',
  html`<table class="table" data-table="distribution">
<thead><tr><th scope="col">Tier</th><th scope="col" class="num">Members</th><th scope="col" class="num">Share</th></tr></thead>
<tbody>${tiers.map(
    (row) =>
      html`<tr data-tier="${row.tier}"><th scope="row"><span class="dot" style="${colourStyle(tierPalette(row.tier))}" aria-hidden="true"></span>${tierName(row.tier)}</th><td class="num" data-field="members">${formatInteger(row.members)}</td><td class="num">${share(row.members)}</td></tr>`,
  )}</tbody>
</table>`,
)}
</div>`,
  });
}
