import { TIERS, type Tier, type TopicNames } from '@taobi/contracts';
import { callApi, type Endpoints } from '../endpoints';
import type { TopicWatch } from '../kafka-watch';
import { mapLimit, table } from '../report';
import { waitForProgress } from '../stall';

/** What the programme part of the demo report needs from the run. */
export interface ProgrammeRun {
  endpoints: Endpoints;
  watch: TopicWatch;
  topics: TopicNames;
  memberIds: string[];
  /** Each member's tier, in `memberIds` order. */
  tiers: Tier[];
  /** A wait fails, saying what is stuck, when nothing moved for this long. */
  stallMs: number;
}

interface Granted {
  memberId: string | null;
  benefitId: string;
  benefitKind: string;
  action: string;
  details: Record<string, unknown>;
}

const pct = (n: number, of: number) => (of === 0 ? '   -' : `${((n * 100) / of).toFixed(1).padStart(4)}%`);
const row = (cells: (string | number)[], widths: number[]) =>
  cells.map((cell, i) => String(cell).padStart(widths[i] ?? 8)).join(' ');

/** A call whose refusal is part of the story (a 409): its status and body, never a throw. */
async function attempt(url: string, key: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, ...headers },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/**
 * Sections 9 to 12 of `taobi demo`: what the programme gives members and merchants, read back
 * through the public APIs and the entitlement topic. Returns false when one of its checks fails
 * (a budget exceeded, a member without periodic grants, a term without its bundle).
 */
export async function programmeReport(run: ProgrammeRun): Promise<boolean> {
  const say = (line = '') => console.log(line);
  const { endpoints } = run;
  const entitlement = endpoints.url('entitlement');
  const read = <T>(path: string) => callApi<T>(`${entitlement}${path}`, { key: endpoints.readKey });
  const tierOf = new Map(run.memberIds.map((id, i) => [id, run.tiers[i] as Tier]));
  const records = () =>
    run.watch
      .of<Granted>(run.topics.entitlementChanged)
      .map((r) => r.value)
      .filter((r) => r.memberId !== null && tierOf.has(r.memberId));
  let ok = true;

  // 9. Periodic benefits reach every member the programme knows, Bronze included: tier announces each
  // member with their first score change (a member whose spending never moved the score is not known).
  const known = new Set(
    run.watch.of<{ memberId: string }>(run.topics.tierChanged).map((r) => r.value.memberId),
  );
  const periodic = records().filter((r) => r.action === 'granted' && r.benefitKind === 'periodic');
  const widths = [14, 8, 7, 12, 8, 11];
  say('\n9. Periodic benefits by tier (daily, weekly, monthly grants on taobi.entitlement-changed.v1)');
  say(`   ${row(['tier', 'members', 'known', 'with grants', 'grants', 'per known'], widths)}`);
  for (const tier of TIERS) {
    const members = run.memberIds.filter((id) => tierOf.get(id) === tier);
    const seen = members.filter((id) => known.has(id)).length;
    const grants = periodic.filter((r) => tierOf.get(r.memberId as string) === tier);
    const holders = new Set(grants.map((r) => r.memberId)).size;
    ok &&= holders === seen;
    const per = seen ? (grants.length / seen).toFixed(1) : '-';
    say(`   ${row([tier, members.length, seen, holders, grants.length, per], widths)}`);
  }
  say('   (known: announced by tier, i.e. with a score change; the others spent nothing that scored yet)');

  // 10. 88VIP: a checkout activates it for members above and below Platinum; each term brings the bundle.
  const nominal = run.memberIds.filter((id) =>
    ['PLATINUM', 'DIAMOND', 'BLACK_DIAMOND'].includes(tierOf.get(id) as Tier),
  );
  const buyers = [
    ...nominal.slice(0, 12),
    ...run.memberIds.filter((id) => tierOf.get(id) === 'BRONZE').slice(0, 4),
  ];
  const terms = await mapLimit(buyers, 4, async (id) => {
    await callApi(`${entitlement}/v1/members/${id}/vip88/activations`, {
      method: 'POST',
      key: endpoints.checkoutKey,
      headers: { 'idempotency-key': `demo-${id}` },
    });
    return read<{ price: { amount: number }; bundle: { name: string; kind: string }[] }>(
      `/v1/members/${id}/vip88`,
    );
  });
  const bundleRecords = () =>
    records().filter((r) => r.action === 'granted' && r.details.vip88ActivationId !== undefined).length;
  const expectedBundle = terms.reduce((n, t) => n + t.bundle.length, 0);
  await waitForProgress({
    what: "the 88VIP bundles' grants on the entitlement topic",
    stallMs: run.stallMs,
    intervalMs: 250,
    poll: async () => bundleRecords(),
    done: (seen) => seen >= expectedBundle,
    progress: (seen) => seen,
    stuck: (seen) =>
      `${seen} of ${expectedBundle} bundle grants seen on ${run.topics.entitlementChanged} ` +
      "(is entitlement's outbox relay publishing? its log and `pnpm taobi status`)",
  });
  ok &&= terms.every((t) => t.bundle.length > 0) && bundleRecords() >= expectedBundle;
  say('\n10. 88VIP bundles (POST /v1/members/:id/vip88/activations with the checkout key)');
  say(
    `   ${terms.filter((t) => t.price.amount === 8800).length} terms at 88 CNY (Platinum and up), ` +
      `${terms.filter((t) => t.price.amount !== 8800).length} at 888 CNY (Bronze)`,
  );
  say(`   each term's bundle: ${terms[0]?.bundle.map((b) => b.name).join('; ') ?? 'none'}`);
  say(`   bundle grants published: ${bundleRecords()} (revoked by the term-end job when each term ends)`);

  // 11. A merchant targets members; a checkout redeems within the budget.
  const validFrom = new Date(Date.now() - 60_000).toISOString();
  const validTo = new Date(Date.now() + 7 * 86_400_000).toISOString();
  const offers = [
    {
      title: 'Diamond and up: 10% off',
      percentOff: 10,
      audience: { tiers: ['DIAMOND', 'BLACK_DIAMOND'] },
      budget: 1000,
    },
    {
      title: '88VIP: 15% off meals',
      percentOff: 15,
      audience: { vip88: true, categories: ['meal'] },
      budget: 100,
    },
    { title: 'Flash deal: 20% off, first 10', percentOff: 20, audience: {}, budget: 10 },
  ];
  const created = await mapLimit(offers, 1, (offer) =>
    callApi<{ id: string; title: string; budget: number }>(`${entitlement}/v1/offers`, {
      method: 'POST',
      key: endpoints.merchantKey,
      body: { ...offer, validFrom, validTo },
    }),
  );
  const seen = await mapLimit(run.memberIds, 16, (id) =>
    read<{ offers: { id: string }[] }>(`/v1/members/${id}/offers?merchantId=dev-merchant`),
  );
  const flash = created[2] as { id: string; budget: number };
  const racers = run.memberIds.slice(0, 30);
  const raced = await Promise.all(
    racers.map((id) =>
      attempt(`${entitlement}/v1/members/${id}/offers/${flash.id}/redemptions`, endpoints.checkoutKey, {
        'idempotency-key': `demo-${id}`,
      }),
    ),
  );
  const redeemed = raced.filter((r) => r.status === 201).length;
  ok &&= redeemed === flash.budget;
  say(
    '\n11. Merchant offers (merchant key dev-merchant-key; GET /v1/members/:id/offers; checkout redemptions)',
  );
  for (const [i, offer] of created.entries()) {
    const qualify = seen.filter((s) => s.offers.some((o) => o.id === offer.id)).length;
    say(
      `   ${offer.title.padEnd(32)} ${JSON.stringify(offers[i]?.audience).padEnd(44)} ${qualify} members qualify`,
    );
  }
  say(
    `   ${racers.length} concurrent redemptions of the budget-${flash.budget} flash deal: ${redeemed} redeemed, ` +
      `${raced.filter((r) => (r.body.error as { code?: string })?.code === 'OFFER_BUDGET_EXHAUSTED').length} refused (OFFER_BUDGET_EXHAUSTED)`,
  );
  for (const offer of created) {
    await callApi(`${entitlement}/v1/offers/${offer.id}`, { method: 'DELETE', key: endpoints.merchantKey });
  }

  // 12. The welcome-gift lottery: a draw per tier first reached, the odds rising with tier.
  const { odds, campaigns } = await read<{
    odds: Record<Tier, number>;
    campaigns: { campaign: string; commitment: string; endsAt: string }[];
  }>('/v1/lottery/commitments?limit=2');
  const draws = (
    await mapLimit(run.memberIds, 16, (id) =>
      read<{ draws: { tier: Tier; won: boolean }[] }>(`/v1/members/${id}/welcome-gift`),
    )
  ).flatMap((answer) => answer.draws);
  say('\n12. Welcome-gift lottery by tier (GET /v1/members/:id/welcome-gift; odds from the catalogue)');
  say(`   ${row(['tier', 'odds', 'draws', 'won', 'win rate'], [14, 6, 7, 6, 9])}`);
  for (const tier of TIERS) {
    const mine = draws.filter((d) => d.tier === tier);
    const won = mine.filter((d) => d.won).length;
    say(`   ${row([tier, pct(odds[tier], 1), mine.length, won, pct(won, mine.length)], [14, 6, 7, 6, 9])}`);
  }
  const current = campaigns[1] ?? campaigns[0];
  if (current) {
    say(
      table([
        ['campaign', `${current.campaign}, commitment ${current.commitment.slice(0, 16)}…`],
        ['seed revealed', `after ${current.endsAt} (GET /v1/lottery/commitments, /v1/lottery/draws/:drawId)`],
      ]),
    );
  }
  return ok;
}
