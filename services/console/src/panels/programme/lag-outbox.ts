/**
 * Consumer lag and outbox age. Upcoming: the observability issue's metrics (consumer lag by group
 * and partition, the outbox's oldest unsent record by service). This panel reads any series whose
 * name says "consumer…lag" or "outbox…age|oldest" from the services' /metrics; until a stack
 * exports them it says they are not available yet.
 */
import type { MetricsSampler } from '../../metrics/sampler';
import { card, scrollTable } from '../../views/components';
import { formatInteger } from '../../views/format';
import { html, type SafeHtml } from '../../views/html';

const LAG = /consumer.*lag/i;
const OUTBOX_AGE = /outbox.*(age|oldest)/i;
/** A histogram's or summary's parts, or a counter's creation time: not the figure itself. */
export const NOT_A_VALUE = /_(created|bucket|sum|count)$/;

function grouped(
  sampler: MetricsSampler,
  pattern: RegExp,
  by: (labels: Record<string, string>, service: string) => string,
  combine: 'sum' | 'max',
) {
  const out = new Map<string, number>();
  for (const { service, series } of sampler.matching(pattern)) {
    if (NOT_A_VALUE.test(series.name) || !Number.isFinite(series.value)) continue;
    const key = by(series.labels, service);
    const prior = out.get(key);
    out.set(
      key,
      prior === undefined
        ? series.value
        : combine === 'sum'
          ? prior + series.value
          : Math.max(prior, series.value),
    );
  }
  return out;
}

function table(label: string, key: string, head: string, unit: string, rows: Map<string, number>): SafeHtml {
  return scrollTable(
    label,
    html`<table class="table" data-table="${key}"><thead><tr><th scope="col">${head}</th><th scope="col" class="num">${unit}</th></tr></thead>
<tbody>${[...rows].map(([name, value]) => html`<tr><th scope="row">${name}</th><td class="num">${formatInteger(value)}</td></tr>`)}</tbody></table>`,
  );
}

export function lagOutboxPanel(sampler: MetricsSampler): SafeHtml {
  const lag = grouped(sampler, LAG, (labels, service) => labels.group ?? service, 'sum');
  const age = grouped(sampler, OUTBOX_AGE, (_labels, service) => service, 'max');
  return card({
    id: 'lag-outbox',
    title: 'Consumer lag and outbox age',
    body: html`<h3>Consumer lag</h3>
${lag.size > 0 ? table('Consumer lag by group', 'lag', 'Consumer group', 'Records behind', lag) : html`<p class="notice" data-state="not-available">Consumer lag: not available on this stack yet.</p>`}
<h3>Outbox age</h3>
${age.size > 0 ? table('Oldest unsent outbox record by service', 'outbox-age', 'Service', 'Seconds', age) : html`<p class="notice" data-state="not-available">Outbox age: not available on this stack yet.</p>`}`,
  });
}
