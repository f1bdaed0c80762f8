import type { ApiResult } from '../upstream/api';
import { toneStyle } from './format';
import { html, type SafeHtml } from './html';

/** One panel of a page: a titled section, labelled by its heading. */
export function card(options: {
  id: string;
  title: string;
  body: SafeHtml | SafeHtml[];
  /** Spans the whole row of the grid, or two columns of it on a wide screen. */
  wide?: boolean | 'two-columns';
  subtitle?: string | SafeHtml;
}): SafeHtml {
  return html`<section class="card${options.wide === 'two-columns' ? ' card-span-2' : options.wide ? ' card-wide' : ''}" id="${options.id}" aria-labelledby="${options.id}-title">
  <header class="card-header"><h2 id="${options.id}-title">${options.title}</h2>${
    options.subtitle ? html`<p class="card-subtitle">${options.subtitle}</p>` : ''
  }</header>
  ${options.body}
</section>`;
}

/** What a panel shows instead of data when its service gave none. */
export function failureNotice(result: Extract<ApiResult<unknown>, { ok: false }>, what: string): SafeHtml {
  switch (result.failure) {
    case 'not-available':
      return html`<p class="notice" data-state="not-available">${what}: not available on this stack yet.</p>`;
    case 'refused':
      return html`<p class="notice" style="${toneStyle('warn')}" data-state="refused">${what}: the service refused the key (${result.status}).</p>`;
    default:
      return html`<p class="notice" style="${toneStyle('error')}" data-state="failed" role="status">${what}: ${result.message}</p>`;
  }
}

/** The card of a panel whose call failed: the panel's frame, and what failed in it. */
export function failureCard(
  frame: { id: string; title: string; wide?: boolean },
  result: Extract<ApiResult<unknown>, { ok: false }>,
  what: string,
): SafeHtml {
  return card({ ...frame, body: failureNotice(result, what) });
}

/** A table that scrolls sideways on a narrow screen, reachable by keyboard. */
export function scrollTable(label: string, table: SafeHtml): SafeHtml {
  return html`<div class="table-scroll" role="region" aria-label="${label}" tabindex="0">${table}</div>`;
}

/** A Chart.js chart drawn by /assets/console.js from its data attribute, with its data as a table. */
export function chart(options: {
  id: string;
  label: string;
  type: 'bar' | 'doughnut' | 'line';
  labels: string[];
  datasets: { label: string; data: number[] }[];
  /**
   * One CSS custom property per label (`--tier-gold`), or with `colorBy: 'dataset'` one per dataset
   * (before and after, side by side): the stylesheet holds every colour.
   */
  colors: string[];
  colorBy?: 'label' | 'dataset';
  small?: boolean;
}): SafeHtml {
  const spec = {
    type: options.type,
    labels: options.labels,
    datasets: options.datasets,
    colors: options.colors,
    colorBy: options.colorBy ?? 'label',
  };
  return html`<div class="chart${options.small ? ' chart-small' : ''}"><canvas id="${options.id}" role="img" aria-label="${options.label}" data-chart="${JSON.stringify(spec)}"></canvas></div>`;
}

/** A link to another page of a paged panel: replaces the panel in place (htmx), or loads it as a page. */
export function pageLink(options: {
  path: string;
  panelId: string;
  params: Record<string, string | undefined>;
  label: string;
}): SafeHtml {
  const query = new URLSearchParams(
    Object.entries(options.params).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const href = `${options.path}?${query}`;
  return html`<a class="button button-secondary" href="${href}" hx-get="${href}" hx-target="#${options.panelId}" hx-swap="outerHTML">${options.label}</a>`;
}
