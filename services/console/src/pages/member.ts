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
import { html, type SafeHtml } from '../views/html';

/** Every answer the member view needs, asked of the services at once. */
export async function loadMember(upstream: Upstream, memberId: string) {
  const id = encodeURIComponent(memberId);
  const [score, history, tier, tiers, entitlements, vip88, offers, decisions, forecast] = await Promise.all([
    upstream.call<ScoreAnswer>('scoring', `/v1/members/${id}/score`),
    loadContributions(upstream, memberId),
    upstream.call<TierAnswer>('tier', `/v1/members/${id}/tier`),
    upstream.call<TierTableAnswer>('tier', '/v1/tiers'),
    upstream.call<EntitlementsAnswer>('entitlement', `/v1/members/${id}/entitlements?limit=200`),
    upstream.call<Vip88Answer>('entitlement', `/v1/members/${id}/vip88`),
    upstream.call<OffersAnswer>('entitlement', `/v1/members/${id}/offers`),
    loadDecisions(upstream, memberId),
    loadForecast(upstream, memberId),
  ]);
  return { score, history, tier, tiers, entitlements, vip88, offers, decisions, forecast };
}

export type MemberAnswers = Awaited<ReturnType<typeof loadMember>>;

export function memberSearch(memberId: string | undefined, error?: string): SafeHtml {
  return html`<form class="search" method="get" action="/members" role="search">
<label for="member-id">Member id</label>
<div class="search-row">
<input id="member-id" name="id" type="search" required maxlength="64" pattern="[A-Za-z0-9_.:\\-]{1,64}" autocomplete="off" spellcheck="false" value="${memberId ?? ''}"${error ? html` aria-invalid="true" aria-describedby="member-id-error"` : ''} placeholder="e.g. m-10001">
<button type="submit" class="button">Look up</button>
</div>
${error ? html`<p class="field-error" id="member-id-error">${error}</p>` : ''}
</form>`;
}

export function memberView(memberId: string, a: MemberAnswers): SafeHtml {
  return html`<h1 class="page-title">Member <span class="mono" data-field="member-id">${memberId}</span></h1>
<div class="grid">
${membersEyePanel(a.tier, a.tiers, a.entitlements, a.vip88)}
${scorePanel(a.score)}
${tierPanel(a.tier, a.tiers)}
${forecastPanel(a.forecast, a.tier)}
${vip88Panel(a.vip88)}
${offersPanel(a.offers)}
${timelinePanel(a.decisions, a.tier)}
${contributionsPanel(memberId, a.history)}
${benefitsPanel(a.entitlements)}
</div>`;
}
