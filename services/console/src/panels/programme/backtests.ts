/**
 * Backtests. Upcoming: scoring's `/v1/admin/backtests` (issue "What-if"). This first pass lists
 * them when the endpoint exists; starting one from a rule file, its progress and the before/after
 * charts come with that issue.
 */
import type { Operator } from '../../auth/session';
import type { ApiResult, Upstream } from '../../upstream/api';
import { card, failureNotice, scrollTable } from '../../views/components';
import { formatDateTime } from '../../views/format';
import { html, type SafeHtml } from '../../views/html';

export interface BacktestSummary {
  id: string;
  name: string;
  status: string;
  asOf?: string;
  progress?: { done: number; total: number };
}

export interface BacktestsAnswer {
  backtests: BacktestSummary[];
}

export type BacktestsResult = ApiResult<BacktestsAnswer> | { ok: false; failure: 'admin-only' };

export function loadBacktests(upstream: Upstream, operator: Operator): Promise<BacktestsResult> {
  if (!operator.adminKey) return Promise.resolve({ ok: false, failure: 'admin-only' });
  return upstream.call('scoring', '/v1/admin/backtests', { key: operator.adminKey });
}

export function backtestsPanel(result: BacktestsResult): SafeHtml {
  let body: SafeHtml;
  if (result.ok) {
    const rows = result.data.backtests ?? [];
    body =
      rows.length === 0
        ? html`<p class="muted">No backtests yet.</p>`
        : scrollTable(
            'Backtests',
            html`<table class="table" data-table="backtests"><thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">As of</th></tr></thead>
<tbody>${rows.map((b) => html`<tr><th scope="row">${b.name}</th><td>${b.status}${b.progress ? ` (${b.progress.done}/${b.progress.total})` : ''}</td><td>${formatDateTime(b.asOf)}</td></tr>`)}</tbody></table>`,
          );
  } else if (result.failure === 'admin-only') {
    body = html`<p class="muted" data-state="admin-only">Backtests need the admin key.</p>`;
  } else {
    body = failureNotice(result, 'Backtests');
  }
  return card({ id: 'backtests', title: 'Backtests', body });
}
