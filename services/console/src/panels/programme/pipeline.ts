import { UPSTREAM_SERVICES } from '../../config';
import { type MetricQuery, type MetricsSampler, RATE_WINDOW_MS } from '../../metrics/sampler';
import { card, scrollTable } from '../../views/components';
import { formatInteger, formatRate } from '../../views/format';
import { html, type SafeHtml } from '../../views/html';

const INGEST = UPSTREAM_SERVICES.filter((service) => service.startsWith('ingest-'));

/** The figures of the pipeline, in the order events flow: each a counter on some services. */
export const PIPELINE: { label: string; query: MetricQuery }[] = [
  {
    label: 'Events accepted by ingest',
    query: { metric: 'taobi_ingest_events_accepted_total', services: INGEST },
  },
  {
    label: 'Events refused by ingest (4xx)',
    query: { metric: 'taobi_ingest_events_rejected_total', services: INGEST },
  },
  {
    label: 'Events folded by scoring',
    query: { metric: 'taobi_scoring_events_total', where: { outcome: 'counted' }, services: ['scoring'] },
  },
  {
    label: 'Duplicates ignored by scoring',
    query: { metric: 'taobi_scoring_events_total', where: { outcome: 'duplicate' }, services: ['scoring'] },
  },
  { label: 'Score changes', query: { metric: 'taobi_scoring_score_changes_total', services: ['scoring'] } },
  {
    label: 'Score changes applied by tier',
    query: { metric: 'taobi_tier_score_changes_total', where: { outcome: 'applied' }, services: ['tier'] },
  },
  { label: 'Tier changes', query: { metric: 'taobi_tier_changes_total', services: ['tier'] } },
  {
    label: 'Entitlement changes',
    query: { metric: 'taobi_entitlement_changes_total', services: ['entitlement'] },
  },
  {
    label: 'Outbox records published',
    query: { metric: 'taobi_outbox_published_total', services: ['scoring', 'tier', 'entitlement'] },
  },
];

/** Event and fold rates and totals from the services' /metrics (counted since each process started). */
export function pipelinePanel(sampler: MetricsSampler): SafeHtml {
  const pending = sampler.total({ metric: 'taobi_tier_pending_downgrades', services: ['tier'] });
  return card({
    id: 'pipeline',
    title: 'Event flow',
    subtitle: `From each service's /metrics, scraped every ${Math.round(sampler.intervalMs / 1000)} s; rates over the last ${RATE_WINDOW_MS / 1000} s, totals since each service started.`,
    wide: 'two-columns',
    body: html`${scrollTable(
      'Event flow',
      html`<table class="table" data-table="pipeline">
<thead><tr><th scope="col">Stage</th><th scope="col" class="num">Rate</th><th scope="col" class="num">Total</th></tr></thead>
<tbody>${PIPELINE.map(
        (row) =>
          html`<tr><th scope="row">${row.label}</th><td class="num">${formatRate(sampler.rate(row.query))}</td><td class="num">${formatInteger(sampler.total(row.query))}</td></tr>`,
      )}</tbody></table>`,
    )}
<p class="muted">Downgrades pending at the next evaluation: <strong data-field="pending-downgrades">${formatInteger(pending)}</strong></p>`,
  });
}
