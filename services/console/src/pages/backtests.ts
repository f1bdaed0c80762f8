import type { Operator } from '../auth/session';
import { backtestsTable } from '../panels/backtests/list';
import { backtestLive } from '../panels/backtests/report';
import { type FieldProblem, startForm } from '../panels/backtests/start-form';
import type { BacktestAnswer, BacktestsAnswer } from '../panels/backtests/types';
import type { ApiResult } from '../upstream/api';
import { card } from '../views/components';
import { formatDateTime, toneStyle } from '../views/format';
import { html, type SafeHtml } from '../views/html';

const ADMIN_ONLY = html`<p class="notice" style="${toneStyle('warn')}" data-state="admin-only">Backtests need the admin key: you are signed in read-only. Sign in with the admin key to start one or to read their results.</p>`;

/** The backtests page: the start form and the latest backtests (admins), or why there is neither. */
export function backtestsView(options: {
  operator: Operator;
  csrfToken: string;
  list?: ApiResult<BacktestsAnswer>;
  values?: { name?: string; asOf?: string };
  problems?: FieldProblem[];
}): SafeHtml {
  const title = html`<h1 class="page-title">Backtests</h1>
<p class="muted">What would a rule change do to the members, the tiers and the cost of the benefits? A backtest replays the whole ledger under the rules in force and under a candidate, without touching a score, a tier or a grant.</p>`;
  if (options.operator.role !== 'admin') return html`${title}${ADMIN_ONLY}`;
  return html`${title}
<div class="grid">
${startForm({ csrfToken: options.csrfToken, values: options.values, problems: options.problems })}
${card({ id: 'backtests', title: 'Latest backtests', body: options.list ? backtestsTable(options.list) : html`` })}
</div>`;
}

/** One backtest: its progress, then the comparison; a completed one can be adopted. */
export function backtestView(b: BacktestAnswer, csrfToken: string): SafeHtml {
  return html`<p><a href="/backtests">← All backtests</a></p>
<h1 class="page-title">Backtest <span data-field="backtest-name">${b.name}</span></h1>
<p class="muted">Replayed up to ${formatDateTime(b.asOf)}</p>
<div class="grid">
${backtestLive(b, csrfToken)}
</div>`;
}
