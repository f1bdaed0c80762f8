import { randomUUID } from 'node:crypto';
import {
  type Catalogue,
  commitmentOf,
  drawLottery,
  LOTTERY_ALGORITHM,
  nextPeriodStart,
  type Period,
  periodOf,
  welcomeGift,
} from '@taobi/benefits';
import type { Tier } from '@taobi/contracts';
import {
  type Counter,
  type Logger,
  type OutboxRecord,
  type Pool,
  type PoolClient,
  scheduleRecurring,
} from '@taobi/platform';
import { grantRecord } from '../domain/grants';
import { insertGrants } from '../store/grants';
import { type DrawRow, drawnAlready, ensureCampaigns, insertDraws } from '../store/lottery';

const DAY_MS = 24 * 3600_000;

export interface LotteryDeps {
  pool: Pool;
  catalogue: Catalogue;
  now: () => Date;
  logger: Logger;
  newSeed: () => string;
  /** `taobi_entitlement_lottery_draws_total{tier,outcome}`. */
  draws: Counter<'tier' | 'outcome'>;
  entitlements: Counter<'action' | 'kind'>;
}

/** A member reaching a tier for the first time (a tier-changed record placing or raising them). */
export interface Arrival {
  memberId: string;
  tier: Tier;
  /** The tier-changed eventId. */
  causeId: string;
}

/**
 * The welcome-gift lottery with commit and reveal. Campaign periods (the catalogue's
 * `campaignCadence`) each get a secret seed and its SHA-256 commitment before they start: the
 * current and the next campaign are sealed at start and at each campaign's start, so a campaign is
 * committed a whole period ahead (one sealed late, because the service was down, says so in its
 * `committedAt`). Draws happen in the tier-change transaction: one per member and tier reached for
 * the first time, ever, with the seed of the campaign running when it is drawn.
 */
export function createLottery(deps: LotteryDeps) {
  const log = deps.logger.child({ component: 'lottery' });
  const gift = welcomeGift(deps.catalogue);
  const cadence = gift.fulfilment.campaignCadence;
  const seal = () => {
    const seed = deps.newSeed();
    return { seed, commitment: commitmentOf(seed) };
  };

  function campaignsFrom(at: Date): Period[] {
    const current = periodOf(cadence, at);
    return [current, periodOf(cadence, current.end)];
  }

  /** Seals the campaign running at `at` and the next one, when not sealed yet. */
  async function ensureAhead(at: Date): Promise<void> {
    const campaigns = await ensureCampaigns(deps.pool, campaignsFrom(at), seal, deps.now());
    log.info(
      { campaigns: campaigns.map((c) => ({ campaign: c.campaign, commitment: c.commitment })) },
      'lottery campaigns committed',
    );
  }

  /** At each campaign's start, commits the next one. */
  function schedule(): { stop: () => Promise<void> } {
    const recurring = scheduleRecurring({
      name: 'lottery-campaigns',
      logger: deps.logger,
      now: deps.now,
      nextRunAt: (after) => nextPeriodStart(cadence, after),
      run: (dueAt) => ensureAhead(dueAt),
    });
    return { stop: async () => recurring.stop() };
  }

  /**
   * Draws for the arrivals of one consumer transaction (the members are locked by it) that have not
   * drawn at that tier before; a win grants the voucher (one-time, keyed `draw:<tier>`). Returns
   * the `granted` records to publish.
   */
  async function drawFor(
    client: PoolClient,
    arrivals: readonly Arrival[],
    now: Date,
  ): Promise<OutboxRecord[]> {
    const unique = [...new Map(arrivals.map((a) => [`${a.memberId}|${a.tier}`, a])).values()];
    const done = await drawnAlready(client, unique);
    const fresh = unique.filter((a) => !done.has(`${a.memberId}|${a.tier}`));
    if (fresh.length === 0) return [];
    const [campaign] = await ensureCampaigns(client, [periodOf(cadence, now)], seal, now);
    if (!campaign) throw new Error('the current lottery campaign could not be sealed');
    const drawn = fresh.map((arrival) => ({
      arrival,
      id: randomUUID(),
      outcome: drawLottery({
        seed: campaign.seed,
        campaign: campaign.campaign,
        memberId: arrival.memberId,
        tier: arrival.tier,
        odds: gift.fulfilment.odds,
      }),
    }));
    const vouchers = await insertGrants(
      client,
      drawn
        .filter((d) => d.outcome.won)
        .map((d) => ({
          memberId: d.arrival.memberId,
          benefitId: gift.id,
          kind: 'one-time' as const,
          grantKey: `draw:${d.arrival.tier}`,
          period: null,
          tier: d.arrival.tier,
          catalogueVersion: deps.catalogue.version,
          cause: 'welcome-gift-draw' as const,
          causeId: d.id,
          details: { drawId: d.id, campaign: campaign.campaign, prize: gift.fulfilment.prize },
          grantedAt: now,
          expiresAt: new Date(now.getTime() + gift.fulfilment.voucherValidDays * DAY_MS),
        })),
    );
    const grantOf = new Map(vouchers.map((row) => [row.cause_id, row.id]));
    await insertDraws(
      client,
      drawn.map(
        (d): DrawRow => ({
          id: d.id,
          member_id: d.arrival.memberId,
          tier: d.arrival.tier,
          campaign: campaign.campaign,
          algorithm: LOTTERY_ALGORITHM,
          catalogue_version: deps.catalogue.version,
          probability: d.outcome.probability,
          value: d.outcome.value,
          won: d.outcome.won,
          grant_id: grantOf.get(d.id) ?? null,
          cause_id: d.arrival.causeId,
          drawn_at: now,
        }),
      ),
    );
    for (const d of drawn) deps.draws.labels(d.arrival.tier, d.outcome.won ? 'won' : 'lost').inc();
    for (const row of vouchers) deps.entitlements.labels('granted', row.kind).inc();
    return vouchers.map((row) => grantRecord(deps.catalogue, row, 'granted', row.tier, now));
  }

  return { cadence, ensureAhead, schedule, drawFor };
}

export type Lottery = ReturnType<typeof createLottery>;
