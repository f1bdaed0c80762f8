import type { Operator } from '../../auth/session';
import type { ApiResult, Upstream } from '../../upstream/api';
import { card } from '../../views/components';
import { html, type SafeHtml } from '../../views/html';
import { backtestsTable } from '../backtests/list';
import type { BacktestsAnswer } from '../backtests/types';

/** The latest backtests on the programme view (admin sessions); the Backtests page has them all. */
export type BacktestsResult = ApiResult<BacktestsAnswer> | { ok: false; failure: 'admin-only' };

export function loadBacktests(upstream: Upstream, operator: Operator): Promise<BacktestsResult> {
  if (!operator.adminKey) return Promise.resolve({ ok: false, failure: 'admin-only' });
  return upstream.call('scoring', '/v1/admin/backtests', { key: operator.adminKey });
}

export function backtestsPanel(result: BacktestsResult): SafeHtml {
  const body =
    !result.ok && result.failure === 'admin-only'
      ? html`<p class="muted" data-state="admin-only">Backtests need the admin key.</p>`
      : html`${backtestsTable(result as ApiResult<BacktestsAnswer>, 5)}<p><a href="/backtests">Start a backtest or see them all</a></p>`;
  return card({ id: 'backtests', title: 'Backtests', body });
}
