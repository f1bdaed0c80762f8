import { UPSTREAM_SERVICES } from '../../config';
import type { MetricsSampler } from '../../metrics/sampler';
import { card, scrollTable } from '../../views/components';
import { formatInteger } from '../../views/format';
import { html, type SafeHtml } from '../../views/html';
import { NOT_A_VALUE } from './lag-outbox';

/**
 * Letters sent to `taobi.consumption.dlq.v1`. Today only scoring counts its own (events it
 * refused); the letters by reason come with the observability issue's DLQ metric (a series whose
 * name mentions "dlq" with a `reason` label), which this panel lists as soon as a service has it.
 */
export function dlqPanel(sampler: MetricsSampler): SafeHtml {
  const refused = sampler.total({
    metric: 'taobi_scoring_events_total',
    where: { outcome: 'rejected' },
    services: ['scoring'],
  });
  const byReason = new Map<string, number>();
  for (const { series } of sampler.matching(/dlq|dead_?letter/i)) {
    const reason = series.labels.reason;
    if (reason === undefined || NOT_A_VALUE.test(series.name)) continue;
    byReason.set(reason, (byReason.get(reason) ?? 0) + series.value);
  }
  // Declared (a labelled counter shows no series until a letter is sent): counted, none yet.
  const lettersCounted =
    sampler.total({ metric: 'taobi_dlq_letters_total', services: UPSTREAM_SERVICES }) !== undefined;
  return card({
    id: 'dlq',
    title: 'Dead letters',
    subtitle: 'Since each service started',
    body: html`<p class="figure"><span class="figure-value" data-field="dlq-scoring">${formatInteger(refused)}</span> <span class="figure-unit">consumption events sent to the DLQ by scoring</span></p>
${
  byReason.size > 0
    ? scrollTable(
        'Dead letters by reason',
        html`<table class="table" data-table="dlq-reasons"><thead><tr><th scope="col">Reason</th><th scope="col" class="num">Letters</th></tr></thead>
<tbody>${[...byReason].map(([reason, count]) => html`<tr><th scope="row">${reason}</th><td class="num">${formatInteger(count)}</td></tr>`)}</tbody></table>`,
      )
    : lettersCounted
      ? html`<p class="muted" data-state="none">No dead letters since the services started.</p>`
      : html`<p class="notice" data-state="not-available">Dead letters by reason: not available on this stack yet.</p>`
}`,
  });
}
