import { UPSTREAM_SERVICES, type UpstreamService } from '../../config';
import type { ApiResult, Upstream } from '../../upstream/api';
import { card, scrollTable } from '../../views/components';
import { toneStyle } from '../../views/format';
import { html, type SafeHtml } from '../../views/html';

interface Readiness {
  status: string;
  checks: Record<string, string>;
}

/** Every service's /readyz, at once. */
export async function loadHealth(upstream: Upstream) {
  const answers = await Promise.all(UPSTREAM_SERVICES.map((s) => upstream.call<Readiness>(s, '/readyz')));
  return UPSTREAM_SERVICES.map((service, i) => ({ service, result: answers[i] as ApiResult<Readiness> }));
}

export function healthPanel(rows: { service: UpstreamService; result: ApiResult<Readiness> }[]): SafeHtml {
  const ready = rows.filter((row) => row.result.ok).length;
  return card({
    id: 'health',
    title: 'Services',
    subtitle: `${ready} of ${rows.length} ready`,
    body: scrollTable(
      'Service readiness',
      html`<table class="table" data-table="health">
<thead><tr><th scope="col">Service</th><th scope="col">State</th></tr></thead>
<tbody>${rows.map(
        ({ service, result }) =>
          html`<tr><th scope="row">${service}</th><td>${
            result.ok
              ? html`<span class="pill" style="${toneStyle('ok')}">ready</span>`
              : html`<span class="pill" style="${toneStyle('error')}">not ready</span> <span class="muted">${result.message}</span>`
          }</td></tr>`,
      )}</tbody></table>`,
    ),
  });
}
