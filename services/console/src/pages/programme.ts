import type { Operator } from '../auth/session';
import type { MetricsSampler } from '../metrics/sampler';
import { adminJobsPanel } from '../panels/programme/admin-jobs';
import { backtestsPanel, loadBacktests } from '../panels/programme/backtests';
import { distributionPanel } from '../panels/programme/distribution';
import { dlqPanel } from '../panels/programme/dlq';
import { evaluationsPanel, loadEvaluations } from '../panels/programme/evaluations';
import { healthPanel, loadHealth } from '../panels/programme/health';
import { lagOutboxPanel } from '../panels/programme/lag-outbox';
import { pipelinePanel } from '../panels/programme/pipeline';
import type { Upstream } from '../upstream/api';
import type { DistributionAnswer } from '../upstream/types';
import { html, type SafeHtml } from '../views/html';

/** How often the live part of the programme view refreshes itself. */
const LIVE_REFRESH_SECONDS = 15;

/** The panels that follow the metrics: refreshed in place every few seconds. */
export async function livePanels(upstream: Upstream, sampler: MetricsSampler): Promise<SafeHtml> {
  // A scrape older than two intervals (the console just started, or the sampler is stopped), or one
  // that failed (a service slow to answer), is redone before the page is drawn.
  const scrapes = Object.values(sampler.latest());
  const stale =
    scrapes.length === 0 ||
    scrapes.some((s) => s.metrics === undefined || Date.now() - s.at > 2 * sampler.intervalMs);
  const [health] = await Promise.all([loadHealth(upstream), stale ? sampler.scrape() : undefined]);
  return html`<div id="live" class="contents" hx-get="/programme/live" hx-trigger="every ${LIVE_REFRESH_SECONDS}s" hx-swap="outerHTML">
${pipelinePanel(sampler)}
${healthPanel(health)}
${dlqPanel(sampler)}
${lagOutboxPanel(sampler)}
</div>`;
}

export async function programmeView(
  upstream: Upstream,
  sampler: MetricsSampler,
  operator: Operator,
  csrfToken: string,
): Promise<SafeHtml> {
  const [distribution, evaluations, backtests, live] = await Promise.all([
    upstream.call<DistributionAnswer>('tier', '/v1/tiers/distribution'),
    loadEvaluations(upstream, operator),
    loadBacktests(upstream, operator),
    livePanels(upstream, sampler),
  ]);
  return html`<h1 class="page-title">Programme</h1>
<div class="grid">
${distributionPanel(distribution)}
${evaluationsPanel(evaluations, sampler)}
${adminJobsPanel(operator, csrfToken)}
${backtestsPanel(backtests)}
${live}
</div>`;
}
