import type { ApiResult } from '../../upstream/api';
import { failureNotice, scrollTable } from '../../views/components';
import { formatDateTime, formatInteger, statusStyle } from '../../views/format';
import { html, type SafeHtml } from '../../views/html';
import type { BacktestSummary, BacktestsAnswer } from './types';

/** A backtest's status with its progress: "running (1,110 of 2,306 members)". */
export function statusText(b: BacktestSummary): string {
  if (b.status !== 'running') return b.status;
  return `running (${formatInteger(b.progress.done)} of ${b.progress.total > 0 ? formatInteger(b.progress.total) : '…'} members)`;
}

/** The latest backtests, newest first, each linking to its comparison. */
export function backtestsTable(result: ApiResult<BacktestsAnswer>, limit = 100): SafeHtml {
  if (!result.ok) return failureNotice(result, 'Backtests');
  const rows = (result.data.backtests ?? []).slice(0, limit);
  if (rows.length === 0) return html`<p class="muted">No backtests yet.</p>`;
  return scrollTable(
    'Backtests',
    html`<table class="table" data-table="backtests"><thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">As of</th><th scope="col">Started</th></tr></thead>
<tbody>${rows.map(
      (b) =>
        html`<tr data-backtest="${b.id}"><th scope="row"><a href="/backtests/${b.id}">${b.name}</a></th><td><span class="pill" style="${statusStyle(b.status)}">${statusText(b)}</span></td><td>${formatDateTime(b.asOf)}</td><td>${formatDateTime(b.createdAt)}</td></tr>`,
    )}</tbody></table>`,
  );
}
