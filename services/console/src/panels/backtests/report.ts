import { card, chart, scrollTable } from '../../views/components';
import {
  colourStyle,
  formatDateTime,
  formatInteger,
  formatMoney,
  statusStyle,
  tierName,
  tierPalette,
  toneStyle,
} from '../../views/format';
import { html, type SafeHtml } from '../../views/html';
import { csrfField } from '../../views/layout';
import { statusText } from './list';
import type { BacktestAnswer, BacktestSide, LiabilityLine } from './types';

/** How often a running backtest's page asks for its progress. */
export const POLL_SECONDS = 2;

const signed = (n: number) => (n > 0 ? `+${formatInteger(n)}` : formatInteger(n));

function progressPanel(b: BacktestAnswer): SafeHtml {
  const { done, total } = b.progress;
  return card({
    id: 'backtest-progress-panel',
    title: 'Progress',
    subtitle: html`Started ${formatDateTime(b.createdAt)}${
      b.completedAt ? html` · completed ${formatDateTime(b.completedAt)}` : ''
    }`,
    body: html`<p><span class="pill" style="${statusStyle(b.status)}" data-field="backtest-status" data-status="${b.status}">${b.status}</span> <span data-field="backtest-progress-text">${formatInteger(done)} of ${total > 0 ? formatInteger(total) : '…'} members</span></p>
<label class="progress-caption" for="backtest-progress">Members replayed</label>
<progress id="backtest-progress" class="progress" max="${Math.max(1, total)}" value="${Math.min(done, Math.max(1, total))}">${statusText(b)}</progress>
${b.status === 'failed' ? html`<p class="notice" style="${toneStyle('error')}" role="alert" data-field="backtest-error">The backtest failed: ${b.error ?? 'no reason given'}</p>` : ''}`,
  });
}

function distributionPanel(before: BacktestSide, after: BacktestSide): SafeHtml {
  const tiers = Object.keys(before.tiers) as (keyof BacktestSide['tiers'])[];
  return card({
    id: 'backtest-distribution',
    title: 'Members per tier, before and after',
    wide: true,
    subtitle: `Before: rules ${before.ruleVersion} · after: rules ${after.ruleVersion} · at the evaluation of ${formatDateTime(after.evaluationAt)}`,
    body: html`<div class="split split-chart">
${chart({
  id: 'backtest-chart',
  label: 'Members per tier under the rules in force and under the candidate',
  type: 'bar',
  labels: tiers.map(tierName),
  datasets: [
    { label: `Before (${before.ruleVersion})`, data: tiers.map((t) => before.tiers[t] ?? 0) },
    { label: `After (${after.ruleVersion})`, data: tiers.map((t) => after.tiers[t] ?? 0) },
  ],
  colors: ['--series-before', '--series-after'],
  colorBy: 'dataset',
})}
${scrollTable(
  'Members per tier, before and after',
  html`<table class="table" data-table="backtest-distribution">
<thead><tr><th scope="col">Tier</th><th scope="col" class="num">Before</th><th scope="col" class="num">After</th><th scope="col" class="num">Change</th></tr></thead>
<tbody>${tiers.map((t) => {
    const [b, a] = [before.tiers[t] ?? 0, after.tiers[t] ?? 0];
    return html`<tr data-tier="${t}"><th scope="row"><span class="dot" style="${colourStyle(tierPalette(t))}" aria-hidden="true"></span>${tierName(t)}</th><td class="num" data-field="before">${formatInteger(b)}</td><td class="num" data-field="after">${formatInteger(a)}</td><td class="num">${signed(a - b)}</td></tr>`;
  })}</tbody>
<tfoot><tr><th scope="row">88VIP at the nominal price</th><td class="num" data-field="vip88-before">${formatInteger(before.vip88Eligible)}</td><td class="num" data-field="vip88-after">${formatInteger(after.vip88Eligible)}</td><td class="num">${signed(after.vip88Eligible - before.vip88Eligible)}</td></tr></tfoot>
</table>`,
)}
</div>`,
  });
}

function movesPanel(b: BacktestAnswer): SafeHtml {
  const moves = b.moves ?? { up: 0, down: 0, byPair: {} };
  const pairs = Object.entries(moves.byPair).sort(([, x], [, y]) => y - x);
  const samples = b.samples ?? [];
  return card({
    id: 'backtest-moves',
    title: 'Moves',
    subtitle: html`<span data-field="moves-up">${formatInteger(moves.up)}</span> up · <span data-field="moves-down">${formatInteger(moves.down)}</span> down`,
    body: html`${
      pairs.length === 0
        ? html`<p class="muted">No member changes tier.</p>`
        : scrollTable(
            'Moves by tier pair',
            html`<table class="table" data-table="moves"><thead><tr><th scope="col">From → to</th><th scope="col" class="num">Members</th></tr></thead>
<tbody>${pairs.map(([pair, count]) => {
              const [from, to] = pair.split('->');
              return html`<tr data-pair="${pair}"><th scope="row">${tierName(from)} → ${tierName(to)}</th><td class="num" data-field="count">${formatInteger(count)}</td></tr>`;
            })}</tbody></table>`,
          )
    }
${
  samples.length > 0
    ? html`<details><summary>${samples.length === 1 ? 'The member who moves' : `The first ${samples.length} members who move`}</summary>${scrollTable(
        'Members who move',
        html`<table class="table" data-table="samples"><thead><tr><th scope="col">Member</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
<tbody>${samples.map(
          (s) =>
            html`<tr><th scope="row"><a class="mono" href="/members?id=${encodeURIComponent(s.memberId)}">${s.memberId}</a></th><td>${tierName(s.before.tier)} (${formatInteger(s.before.score)})</td><td>${tierName(s.after.tier)} (${formatInteger(s.after.score)})</td></tr>`,
        )}</tbody></table>`,
      )}</details>`
    : ''
}`,
  });
}

const amount = (line: LiabilityLine, value: number) =>
  line.unit === 'fen' ? formatMoney({ amount: value, currency: 'CNY' }) : `${formatInteger(value)} grants`;

function liabilityPanel(b: BacktestAnswer): SafeHtml {
  // The benefits whose cost changes first, the most changed first.
  const lines = Object.entries(b.liability ?? {}).sort(
    ([, x], [, y]) => Math.abs(y.after - y.before) - Math.abs(x.after - x.before),
  );
  const fen = lines.filter(([, l]) => l.unit === 'fen');
  const total = (side: 'before' | 'after') => fen.reduce((sum, [, l]) => sum + l[side], 0);
  return card({
    id: 'backtest-liability',
    title: 'Liability',
    wide: 'two-columns',
    subtitle: 'What the granted benefits cost at the evaluation: holders × the cost of one grant',
    body:
      lines.length === 0
        ? html`<p class="muted">No granted benefit.</p>`
        : scrollTable(
            'Liability by benefit',
            html`<table class="table" data-table="liability"><thead><tr><th scope="col">Benefit</th><th scope="col" class="num">Before</th><th scope="col" class="num">After</th><th scope="col" class="num">Change</th></tr></thead>
<tbody>${lines.map(
              ([id, l]) =>
                html`<tr data-benefit="${id}"><th scope="row">${id}</th><td class="num">${amount(l, l.before)}</td><td class="num">${amount(l, l.after)}</td><td class="num">${l.after - l.before > 0 ? '+' : ''}${amount(l, l.after - l.before)}</td></tr>`,
            )}</tbody>
<tfoot><tr><th scope="row">Total (costed)</th><td class="num" data-field="liability-before">${formatMoney({ amount: total('before'), currency: 'CNY' })}</td><td class="num" data-field="liability-after">${formatMoney({ amount: total('after'), currency: 'CNY' })}</td><td class="num">${formatMoney({ amount: total('after') - total('before'), currency: 'CNY' })}</td></tr></tfoot></table>`,
          ),
  });
}

/**
 * Adopting the candidate (admin key, a completed backtest): under a new version, for the first
 * evaluation on or after the chosen instant (scoring's `POST /v1/admin/rule-sets`).
 */
function adoptPanel(b: BacktestAnswer, csrfToken: string, defaultVersion: string): SafeHtml {
  return card({
    id: 'adopt',
    title: 'Adopt the candidate',
    subtitle:
      'Schedules these rules for an evaluation, never retroactively; the version records this backtest',
    body: html`<form class="form-stack" method="post" action="/backtests/${b.id}/adopt" hx-post="/backtests/${b.id}/adopt" hx-target="#adopt-result" hx-swap="innerHTML">
${csrfField(csrfToken)}
<div><label for="adopt-version">New rule version</label>
<input id="adopt-version" name="version" type="text" required maxlength="32" autocomplete="off" value="${defaultVersion}"></div>
<div><label for="adopt-effective-from">Effective from <span class="muted">(Shanghai time: the first evaluation on or after it)</span></label>
<input id="adopt-effective-from" name="effectiveFrom" type="datetime-local" step="60" required></div>
<div><button type="submit" class="button" data-action="adopt">Adopt these rules</button></div>
</form>
<div id="adopt-result" role="status" aria-live="polite"></div>`,
  });
}

/**
 * The backtest's live part: progress, then the comparison (partial while it runs), and once it
 * completed the form to adopt it. While it runs, htmx asks for it again every few seconds; a
 * finished backtest's fragment stops asking.
 */
export function backtestLive(b: BacktestAnswer, csrfToken: string): SafeHtml {
  const running = b.status === 'running';
  const adoptable = b.status === 'completed' && b.candidateRuleSet !== undefined;
  const version = `${b.candidate?.ruleVersion ?? 'candidate'}`.replace(/-what-if$/, '-next').slice(0, 32);
  return html`<div id="backtest-live" class="contents" data-status="${b.status}"${
    running
      ? html` hx-get="/backtests/${b.id}/live" hx-trigger="every ${POLL_SECONDS}s" hx-swap="outerHTML"`
      : ''
  }>
${progressPanel(b)}
${b.baseline && b.candidate ? distributionPanel(b.baseline, b.candidate) : ''}
${b.baseline && b.candidate ? movesPanel(b) : ''}
${b.baseline && b.candidate ? liabilityPanel(b) : ''}
${adoptable ? adoptPanel(b, csrfToken, version) : ''}
</div>`;
}
