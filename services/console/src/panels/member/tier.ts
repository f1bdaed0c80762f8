import type { ApiResult } from '../../upstream/api';
import type { TierAnswer, TierTableAnswer } from '../../upstream/types';
import { card, failureCard } from '../../views/components';
import {
  colourStyle,
  formatDate,
  formatDateTime,
  formatInteger,
  tierName,
  tierPalette,
  toneStyle,
} from '../../views/format';
import { html, type SafeHtml } from '../../views/html';
import { nextTierProgress } from './progress';

/** A labelled progress bar to the next tier (shared by the tier panel and the member's eye). */
export function progressBar(id: string, tier: TierAnswer, table: TierTableAnswer | undefined): SafeHtml {
  const progress = nextTierProgress(tier, table);
  if (!progress.next) {
    return html`<p class="progress-caption" data-field="next-tier">Highest tier reached</p>`;
  }
  return html`<label class="progress-caption" for="${id}"><span data-field="points-needed">${formatInteger(progress.pointsNeeded)}</span> points to <span data-field="next-tier">${tierName(progress.next)}</span></label>
<progress id="${id}" class="progress" max="${progress.max}" value="${progress.value}" data-field="progress">${progress.percent}%</progress>`;
}

/** The member's tier (tier service): since when, the next tier and what keeps the current one. */
export function tierPanel(tier: ApiResult<TierAnswer>, table: ApiResult<TierTableAnswer>): SafeHtml {
  if (!tier.ok) return failureCard({ id: 'tier', title: 'Tier' }, tier, 'The tier');
  const t = tier.data;
  const keep = t.keep;
  return card({
    id: 'tier',
    title: 'Tier',
    subtitle: `Rules ${t.ruleVersion} · score version ${t.scoreVersion}`,
    body: html`<p class="figure"><span class="tier-badge" style="${colourStyle(tierPalette(t.tier))}" data-field="tier">${tierName(t.tier)}</span></p>
<p class="muted">Since ${formatDateTime(t.since)} · tier score <span data-field="tier-score">${formatInteger(t.score)}</span></p>
${progressBar('tier-progress', t, table.ok ? table.data : undefined)}
${t.downgradePending ? html`<p class="notice" style="${toneStyle('warn')}">Downgrade pending: the score no longer holds ${tierName(t.tier)}; it moves down at the next evaluation unless the member climbs back.</p>` : ''}
${
  keep
    ? html`<p class="muted">To keep ${tierName(keep.tier)} at the evaluation of ${formatDate(keep.evaluationAt)}: ${
        keep.pointsNeeded > 0
          ? html`<strong>${formatInteger(keep.pointsNeeded)}</strong> more points (${formatInteger(keep.expiringPoints)} expire then)`
          : html`nothing more to earn (${formatInteger(keep.expiringPoints)} points expire then, forecast ${formatInteger(keep.forecastScore)})`
      }.</p>`
    : ''
}`,
  });
}
