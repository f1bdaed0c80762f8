/**
 * The forecast: tier's `GET /v1/members/:id/forecast` (the next three evaluations without new
 * activity). A stack without the endpoint gets what the tier API's `keep` says about the
 * next evaluation and says the three-evaluation forecast is not available yet.
 */
import type { ApiResult, Upstream } from '../../upstream/api';
import type { TierAnswer } from '../../upstream/types';
import { card, failureNotice, scrollTable } from '../../views/components';
import { formatDate, formatInteger, formatLongDate, tierName } from '../../views/format';
import { html, type SafeHtml } from '../../views/html';

export interface ForecastAnswer {
  tier: string;
  score: number;
  evaluations: {
    at: string;
    expiringPoints: number;
    projectedScore: number;
    projectedTier: string;
    pointsToKeep: number;
    willDrop: boolean;
  }[];
  willDrop: boolean;
  dropTo: string | null;
  dropAt: string | null;
}

export function loadForecast(upstream: Upstream, memberId: string): Promise<ApiResult<ForecastAnswer>> {
  return upstream.call('tier', `/v1/members/${encodeURIComponent(memberId)}/forecast`);
}

function headline(f: ForecastAnswer): SafeHtml {
  if (!f.willDrop || !f.dropTo)
    return html`<p data-field="forecast">Keeps ${tierName(f.tier)} through the next three evaluations without new activity.</p>`;
  const first = f.evaluations.find((e) => e.willDrop);
  return html`<p data-field="forecast">Drops to <strong data-field="drop-to">${tierName(f.dropTo)}</strong> on <span data-field="drop-at">${formatLongDate(f.dropAt)}</span>${
    first
      ? html` unless <span data-field="points-to-keep">${formatInteger(first.pointsToKeep)}</span> more points`
      : ''
  }.</p>`;
}

export function forecastPanel(forecast: ApiResult<ForecastAnswer>, tier: ApiResult<TierAnswer>): SafeHtml {
  if (forecast.ok) {
    const f = forecast.data;
    return card({
      id: 'forecast',
      title: 'Forecast',
      body: html`${headline(f)}
${scrollTable(
  'Forecast by evaluation',
  html`<table class="table" data-table="forecast">
<thead><tr><th scope="col">Evaluation</th><th scope="col" class="num">Expiring</th><th scope="col" class="num">Projected</th><th scope="col">Tier</th><th scope="col" class="num">To keep</th></tr></thead>
<tbody>${f.evaluations.map(
    (e) =>
      html`<tr><td>${formatDate(e.at)}</td><td class="num">${formatInteger(e.expiringPoints)}</td><td class="num">${formatInteger(e.projectedScore)}</td><td>${tierName(e.projectedTier)}</td><td class="num">${formatInteger(e.pointsToKeep)}</td></tr>`,
  )}</tbody></table>`,
)}`,
    });
  }
  const keep = tier.ok ? tier.data.keep : null;
  return card({
    id: 'forecast',
    title: 'Forecast',
    body: html`${
      keep
        ? html`<p data-field="keep">Next evaluation, ${formatDate(keep.evaluationAt)}: ${formatInteger(keep.expiringPoints)} points expire; ${
            keep.pointsNeeded > 0
              ? html`drops from ${tierName(keep.tier)} unless <strong>${formatInteger(keep.pointsNeeded)}</strong> more points.`
              : html`keeps ${tierName(keep.tier)} (forecast score ${formatInteger(keep.forecastScore)}).`
          }</p>`
        : ''
    }
${failureNotice(forecast, 'The forecast over the next three evaluations')}`,
  });
}
