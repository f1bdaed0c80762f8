import { benefitsPanel } from '../panels/member/benefits';
import { contributionsPanel, loadContributions } from '../panels/member/contributions';
import { forecastPanel, loadForecast } from '../panels/member/forecast';
import { membersEyePanel } from '../panels/member/members-eye';
import { offersPanel } from '../panels/member/offers';
import { scorePanel } from '../panels/member/score';
import { tierPanel } from '../panels/member/tier';
import { loadDecisions, timelinePanel } from '../panels/member/timeline';
import { vip88Panel } from '../panels/member/vip88';
import type { Upstream } from '../upstream/api';
import type {
  EntitlementsAnswer,
  OffersAnswer,
  ScoreAnswer,
  TierAnswer,
  TierTableAnswer,
  Vip88Answer,
} from '../upstream/types';
import { formatDateTime, toneStyle } from '../views/format';
import { html, type SafeHtml } from '../views/html';

/**
 * Every answer the member view needs, asked of the services at once. With `asOf`, the score and the
 * tier are those the services held then (`?asOf=`); the rest is as it is now.
 */
export async function loadMember(upstream: Upstream, memberId: string, asOf?: Date) {
  const id = encodeURIComponent(memberId);
  const at = asOf ? `?${new URLSearchParams({ asOf: asOf.toISOString() })}` : '';
  const [score, history, tier, tiers, entitlements, vip88, offers, decisions, forecast] = await Promise.all([
    upstream.call<ScoreAnswer>('scoring', `/v1/members/${id}/score${at}`),
    loadContributions(upstream, memberId),
    upstream.call<TierAnswer>('tier', `/v1/members/${id}/tier${at}`),
    upstream.call<TierTableAnswer>('tier', '/v1/tiers'),
    upstream.call<EntitlementsAnswer>('entitlement', `/v1/members/${id}/entitlements?limit=200`),
    upstream.call<Vip88Answer>('entitlement', `/v1/members/${id}/vip88`),
    upstream.call<OffersAnswer>('entitlement', `/v1/members/${id}/offers`),
    loadDecisions(upstream, memberId),
    loadForecast(upstream, memberId),
  ]);
  return { asOf, score, history, tier, tiers, entitlements, vip88, offers, decisions, forecast };
}

export type MemberAnswers = Awaited<ReturnType<typeof loadMember>>;

export function memberSearch(
  memberId: string | undefined,
  options: { error?: { field: 'id' | 'asOf'; message: string }; asOf?: string } = {},
): SafeHtml {
  const { error } = options;
  const invalid = (field: 'id' | 'asOf') =>
    error?.field === field ? html` aria-invalid="true" aria-describedby="member-search-error"` : '';
  return html`<form class="search" method="get" action="/members" role="search">
<div class="search-fields">
<div class="field"><label for="member-id">Member id</label>
<input id="member-id" name="id" type="search" required maxlength="64" pattern="[A-Za-z0-9_.:\\-]{1,64}" autocomplete="off" spellcheck="false" value="${memberId ?? ''}"${invalid('id')} placeholder="e.g. m-10001"></div>
<div class="field"><label for="member-as-of">As of <span class="muted">(Shanghai time; empty: now)</span></label>
<input id="member-as-of" name="asOf" type="datetime-local" step="60" value="${options.asOf ?? ''}"${invalid('asOf')}></div>
<button type="submit" class="button">Look up</button>
</div>
${error ? html`<p class="field-error" id="member-search-error">${error.field === 'id' ? 'Member id' : 'As of'}: ${error.message}</p>` : ''}
</form>`;
}

export function memberView(memberId: string, a: MemberAnswers): SafeHtml {
  return html`<h1 class="page-title">Member <span class="mono" data-field="member-id">${memberId}</span></h1>
${
  a.asOf
    ? html`<p class="notice" style="${toneStyle('warn')}" data-field="as-of" data-as-of="${a.asOf.toISOString()}">As of <strong>${formatDateTime(a.asOf.toISOString())}</strong>: the score and the tier as the services held them then. The other panels are as they are now. <a href="/members?id=${encodeURIComponent(memberId)}">Back to now</a></p>`
    : ''
}
<div class="grid">
${membersEyePanel(a.tier, a.tiers, a.entitlements, a.vip88)}
${scorePanel(a.score)}
${tierPanel(a.tier, a.tiers)}
${forecastPanel(a.forecast, a.tier)}
${vip88Panel(a.vip88)}
${offersPanel(a.offers)}
${timelinePanel(memberId, a.decisions, a.tier)}
${contributionsPanel(memberId, a.history)}
${benefitsPanel(a.entitlements)}
</div>`;
}
