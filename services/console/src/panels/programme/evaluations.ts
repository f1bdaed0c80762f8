import type { Operator } from '../../auth/session';
import type { MetricsSampler } from '../../metrics/sampler';
import type { ApiResult, Upstream } from '../../upstream/api';
import type { ScoringEvaluation, TierEvaluation, TierTableAnswer } from '../../upstream/types';
import { card, failureNotice } from '../../views/components';
import { formatDateTime, formatInteger } from '../../views/format';
import { html, type SafeHtml } from '../../views/html';

type AdminOnly = { ok: false; failure: 'admin-only' };

/** The next evaluation (read API) and the last one each service ran (admin APIs: admins only). */
export async function loadEvaluations(upstream: Upstream, operator: Operator) {
  const adminOnly: AdminOnly = { ok: false, failure: 'admin-only' };
  const key = operator.adminKey;
  const [tiers, scoring, tier] = await Promise.all([
    upstream.call<TierTableAnswer>('tier', '/v1/tiers'),
    key
      ? upstream.call<{ evaluations: ScoringEvaluation[] }>('scoring', '/v1/admin/evaluations', { key })
      : Promise.resolve(adminOnly),
    key
      ? upstream.call<{ evaluations: TierEvaluation[] }>('tier', '/v1/admin/evaluations', { key })
      : Promise.resolve(adminOnly),
  ]);
  return { tiers, scoring, tier };
}

export type EvaluationAnswers = Awaited<ReturnType<typeof loadEvaluations>>;

/** Tier's evaluation gauges (the observability metrics), for sessions without the admin API. */
function tierFromMetrics(sampler: MetricsSampler): SafeHtml | undefined {
  const figure = (metric: string) => sampler.total({ metric, services: ['tier'] });
  const lastAsOf = figure('taobi_tier_evaluation_last_completed_as_of_timestamp_seconds');
  if (lastAsOf === undefined) return undefined;
  const running = figure('taobi_tier_evaluation_in_progress') === 1;
  return html`<span data-source="metrics">${lastAsOf > 0 ? formatDateTime(new Date(lastAsOf * 1000).toISOString()) : 'none yet'}${
    running
      ? html` <span class="muted">· one running, ${formatInteger(figure('taobi_tier_evaluation_members_evaluated'))} members evaluated so far</span>`
      : ''
  }</span>`;
}

function last<T>(
  result: ApiResult<{ evaluations: T[] }> | AdminOnly,
  what: string,
  show: (e: T) => SafeHtml,
  fallback?: SafeHtml,
) {
  if (!result.ok) {
    if (result.failure !== 'admin-only') return failureNotice(result, what);
    return (
      fallback ??
      html`<span class="muted" data-state="admin-only">sign in with the admin key to see it</span>`
    );
  }
  const newest = result.data.evaluations[0];
  return newest ? show(newest) : html`<span class="muted">none yet</span>`;
}

export function evaluationsPanel(a: EvaluationAnswers, sampler: MetricsSampler): SafeHtml {
  return card({
    id: 'evaluations',
    title: 'Monthly evaluation',
    body: html`<dl class="facts">
<dt>Next</dt><dd data-field="next-evaluation">${
      a.tiers.ok
        ? html`${formatDateTime(a.tiers.data.evaluation.nextAt)} <span class="muted">(day ${a.tiers.data.evaluation.dayOfMonth}, ${a.tiers.data.evaluation.timeZone}; downgrades: ${a.tiers.data.downgrade.replaceAll('-', ' ')})</span>`
        : failureNotice(a.tiers, 'The tier table')
    }</dd>
<dt>Last on scoring</dt><dd data-field="last-scoring-evaluation">${last(a.scoring, 'Scoring evaluations', (e: ScoringEvaluation) => html`${formatDateTime(e.evaluationAt)} <span class="muted">· ${formatInteger(e.membersChanged)} of ${formatInteger(e.membersEvaluated)} members changed, ${formatInteger(e.pointsExpired)} points expired${e.completedAt ? '' : ' · running'}</span>`)}</dd>
<dt>Last on tier</dt><dd data-field="last-tier-evaluation">${last(a.tier, 'Tier evaluations', (e: TierEvaluation) => html`${formatDateTime(e.asOf)} <span class="muted">· ${e.status}, ${formatInteger(e.downgrades)} downgrades of ${formatInteger(e.membersEvaluated)} members (${e.trigger})</span>`, tierFromMetrics(sampler))}</dd>
</dl>`,
  });
}
