/**
 * The tier timeline. Upcoming: tier's `GET /v1/members/:id/tier/history` (issue "Time": every
 * decision with its explanation). Until a stack has it, the panel shows the one change the tier API
 * answers today (the current tier and since when) and says the decisions are not available yet.
 */
import type { ApiResult, Upstream } from '../../upstream/api';
import type { TierAnswer } from '../../upstream/types';
import { card, failureNotice, scrollTable } from '../../views/components';
import { formatDateTime, formatInteger, tierName } from '../../views/format';
import { html, type SafeHtml } from '../../views/html';

/** A tier decision as issue "Time" specifies it (fields beyond these are ignored). */
export interface TierDecision {
  at: string;
  from: string | null;
  to: string;
  direction: string;
  reason: string;
  score: number;
  threshold?: number;
  evaluationAsOf?: string | null;
  windowFrom?: string | null;
  windowTo?: string | null;
  expiredMonths?: string[];
}

export interface DecisionsAnswer {
  decisions: TierDecision[];
  nextCursor: string | null;
}

export function loadDecisions(upstream: Upstream, memberId: string): Promise<ApiResult<DecisionsAnswer>> {
  return upstream.call('tier', `/v1/members/${encodeURIComponent(memberId)}/tier/history?limit=20`);
}

function explanation(d: TierDecision): string {
  const parts = [d.reason];
  if (d.threshold !== undefined) parts.push(`threshold ${formatInteger(d.threshold)}`);
  if (d.windowFrom && d.windowTo) parts.push(`window ${d.windowFrom} to ${d.windowTo}`);
  if (d.expiredMonths && d.expiredMonths.length > 0) parts.push(`expired ${d.expiredMonths.join(', ')}`);
  return parts.join(' · ');
}

export function timelinePanel(decisions: ApiResult<DecisionsAnswer>, tier: ApiResult<TierAnswer>): SafeHtml {
  if (decisions.ok) {
    const rows = decisions.data.decisions;
    return card({
      id: 'timeline',
      title: 'Tier timeline',
      wide: true,
      body:
        rows.length === 0
          ? html`<p class="muted">No tier decisions yet.</p>`
          : scrollTable(
              'Tier decisions',
              html`<table class="table" data-table="decisions">
<thead><tr><th scope="col">When</th><th scope="col">Change</th><th scope="col" class="num">Score</th><th scope="col">Why</th></tr></thead>
<tbody>${rows.map(
                (d) =>
                  html`<tr><td>${formatDateTime(d.at)}</td><td>${tierName(d.from)} → ${tierName(d.to)} <span class="muted">(${d.direction})</span></td><td class="num">${formatInteger(d.score)}</td><td>${explanation(d)}</td></tr>`,
              )}</tbody></table>`,
            ),
    });
  }
  return card({
    id: 'timeline',
    title: 'Tier timeline',
    wide: true,
    body: html`${
      tier.ok
        ? html`<ol class="timeline"><li><time datetime="${tier.data.since ?? ''}">${formatDateTime(tier.data.since)}</time> <strong>${tierName(tier.data.tier)}</strong> <span class="muted">(current tier, from the tier API)</span></li></ol>`
        : ''
    }
${failureNotice(decisions, 'Tier decisions with their explanations')}`,
  });
}
