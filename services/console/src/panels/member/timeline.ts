import { type ApiResult, memberPages } from '../../upstream/api';
import type { TierAnswer } from '../../upstream/types';
import { card, failureNotice, pageLink, scrollTable } from '../../views/components';
import { formatDateTime, formatInteger, tierName } from '../../views/format';
import { html, type SafeHtml } from '../../views/html';

/** A tier decision as tier's history answers it (fields beyond these are ignored). */
export interface TierDecision {
  at: string;
  from: string | null;
  to: string;
  direction: string;
  reason: string;
  score: number;
  scoreVersion?: number;
  /** The threshold crossed: the new tier's for a move up, the lost tier's for a move down. */
  threshold?: number;
  /** The rule set whose thresholds decided. */
  ruleVersion?: string;
  evaluationAsOf?: string | null;
  windowFrom?: string | null;
  windowTo?: string | null;
  /** The months whose points left the score at an evaluation. */
  expiredMonths?: { month: string; points: number }[];
}

export interface DecisionsAnswer {
  decisions: TierDecision[];
  nextCursor: string | null;
}

/** One page of the member's tier decisions, newest first: 20 a page. */
export const loadDecisions = memberPages<DecisionsAnswer>('tier', 'tier/history', 20);

/** Months from `2026-04` to `2027-03`, both counted: 12. */
function monthsBetween(from: string, to: string): number {
  const [fy, fm] = from.split('-').map(Number) as [number, number];
  const [ty, tm] = to.split('-').map(Number) as [number, number];
  return (ty - fy) * 12 + (tm - fm) + 1;
}

/** Why the tier moved, in words: the threshold crossed, the rules, the window and what expired. */
export function explanation(d: TierDecision): string {
  const parts = [d.reason];
  if (d.threshold !== undefined) {
    const tier = d.direction === 'down' ? d.from : d.to;
    parts.push(
      `${d.direction === 'down' ? 'fell below' : 'reached'} ${tierName(tier)}'s threshold ${formatInteger(d.threshold)}`,
    );
  }
  if (d.ruleVersion) parts.push(`rules ${d.ruleVersion}`);
  if (d.windowFrom && d.windowTo) {
    parts.push(`window ${d.windowFrom} to ${d.windowTo} (${monthsBetween(d.windowFrom, d.windowTo)} months)`);
  }
  if (d.expiredMonths && d.expiredMonths.length > 0) {
    parts.push(
      `expired ${d.expiredMonths.map((m) => `${m.month} (${formatInteger(m.points)} points)`).join(', ')}`,
    );
  }
  return parts.join(' · ');
}

const decisionsPage = (memberId: string, cursor: string | undefined, label: string) =>
  pageLink({ path: '/members/decisions', panelId: 'timeline', params: { id: memberId, cursor }, label });

/** The tier decisions, newest first, each with its explanation; paged in place. */
export function timelinePanel(
  memberId: string,
  decisions: ApiResult<DecisionsAnswer>,
  tier: ApiResult<TierAnswer> | undefined,
  cursor?: string,
): SafeHtml {
  if (decisions.ok) {
    const rows = decisions.data.decisions;
    return card({
      id: 'timeline',
      title: 'Tier timeline',
      subtitle: 'Every tier decision, newest first, with why it was made',
      wide: true,
      body: html`${
        rows.length === 0
          ? html`<p class="muted">No tier decisions${cursor ? ' on this page' : ' yet'}.</p>`
          : scrollTable(
              'Tier decisions',
              html`<table class="table" data-table="decisions">
<thead><tr><th scope="col">When</th><th scope="col">Change</th><th scope="col" class="num">Score</th><th scope="col">Rules</th><th scope="col">Why</th></tr></thead>
<tbody>${rows.map(
                (d) =>
                  html`<tr data-to="${d.to}"><td>${formatDateTime(d.at)}</td><td>${d.from ? tierName(d.from) : html`<span class="muted">none</span>`} → <strong>${tierName(d.to)}</strong> <span class="muted">(${d.direction})</span></td><td class="num">${formatInteger(d.score)}</td><td>${d.ruleVersion ?? '—'}</td><td data-field="explanation">${explanation(d)}</td></tr>`,
              )}</tbody></table>`,
            )
      }
<nav class="pager" aria-label="Tier decision pages">${cursor ? decisionsPage(memberId, undefined, 'Newest decisions') : ''}${
        decisions.data.nextCursor ? decisionsPage(memberId, decisions.data.nextCursor, 'Older decisions') : ''
      }</nav>`,
    });
  }
  return card({
    id: 'timeline',
    title: 'Tier timeline',
    wide: true,
    body: html`${
      tier?.ok
        ? html`<ol class="timeline"><li><time datetime="${tier.data.since ?? ''}">${formatDateTime(tier.data.since)}</time> <strong>${tierName(tier.data.tier)}</strong> <span class="muted">(current tier, from the tier API)</span></li></ol>`
        : ''
    }
${failureNotice(decisions, 'Tier decisions with their explanations')}`,
  });
}
