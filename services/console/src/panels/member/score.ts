import type { ApiResult } from '../../upstream/api';
import { BUSINESS_LINES, type ScoreAnswer } from '../../upstream/types';
import { card, chart, failureCard, scrollTable } from '../../views/components';
import { colourStyle, formatDate, formatDateTime, formatInteger, LINE_NAMES } from '../../views/format';
import { html, type SafeHtml } from '../../views/html';

/** The Taobi Score (scoring) with its breakdown by business line. */
export function scorePanel(result: ApiResult<ScoreAnswer>): SafeHtml {
  if (!result.ok) return failureCard({ id: 'score', title: 'Taobi Score' }, result, 'The score');
  const score = result.data;
  const lines = ['base', ...BUSINESS_LINES] as const;
  const expiring = score.expiringAtNextEvaluation;
  return card({
    id: 'score',
    title: 'Taobi Score',
    subtitle: `Rules ${score.ruleVersion} · window ${score.window.from} to ${score.window.to}`,
    body: html`<p class="figure"><span class="figure-value" data-field="score">${formatInteger(score.score)}</span> <span class="figure-unit">points</span></p>
<p class="muted">Updated ${formatDateTime(score.updatedAt)} · version ${score.version}${
      expiring && expiring.points > 0
        ? html` · <strong>${formatInteger(expiring.points)}</strong> points expire at the evaluation of ${formatDate(expiring.evaluationAt)}`
        : ''
    }</p>
<div class="split split-compact">
${chart({
  id: 'breakdown-chart',
  label: 'Score by business line',
  type: 'doughnut',
  labels: lines.map((line) => LINE_NAMES[line] ?? line),
  datasets: [{ label: 'Points', data: lines.map((line) => score.breakdown[line] ?? 0) }],
  colors: lines.map((line) => `--line-${line}`),
  small: true,
})}
${scrollTable(
  'Score by business line',
  html`<table class="table" data-table="breakdown">
<thead><tr><th scope="col">Business line</th><th scope="col" class="num">Points</th></tr></thead>
<tbody>${lines.map(
    (line) =>
      html`<tr><th scope="row"><span class="dot" style="${colourStyle(`line-${line}`)}" aria-hidden="true"></span>${LINE_NAMES[line] ?? line}</th><td class="num" data-line="${line}">${formatInteger(score.breakdown[line] ?? 0)}</td></tr>`,
  )}</tbody>
<tfoot><tr><th scope="row">Total</th><td class="num">${formatInteger(score.score)}</td></tr></tfoot>
</table>`,
)}
</div>`,
  });
}
