import { LOTTERY_ALGORITHM, lotteryMessage, welcomeGift } from '@taobi/benefits';
import { badField, Errors, pageLimit } from '@taobi/platform';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  type CampaignRow,
  type DrawRow,
  drawsOfMember,
  findCampaign,
  findDraw,
  listCampaigns,
} from '../store/lottery';
import { readMember } from '../store/members';
import { commitmentsSchema, drawSchema, welcomeGiftSchema } from './api-schemas';
import { entitlementRoutes, memberPathSchema, type RouteContext } from './context';

const commitmentsQuerySchema = z.strictObject({ limit: pageLimit(520, 10) });
const drawParamsSchema = z.object({ drawId: z.uuid() });

/** How anyone checks the lottery (also in the README, with a reference vector). */
export const VERIFICATION = [
  'Before the campaign: commitment = hex(SHA-256(seed bytes)) is published (GET /v1/lottery/commitments).',
  'After it: the seed is revealed there and on each draw; check SHA-256(hex-decoded seed) = commitment.',
  'value = (first 6 bytes, big-endian, of HMAC-SHA256(key = hex-decoded seed, message)) / 2^48,',
  'message = "taobi.lottery.v2|" + campaign + "|" + memberId + "|" + tier; won = value < probability.',
].join(' ');

/** A campaign as published: its seed only once it has ended. */
function campaignView(row: CampaignRow, now: Date) {
  const revealed = row.ends_at.getTime() <= now.getTime();
  return {
    campaign: row.campaign,
    startsAt: row.starts_at.toISOString(),
    endsAt: row.ends_at.toISOString(),
    commitment: row.commitment,
    committedAt: row.committed_at.toISOString(),
    revealed,
    seed: revealed ? row.seed : null,
  };
}

export function registerLotteryRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const gift = welcomeGift(ctx.catalogue);

  function drawView(draw: DrawRow, campaign: CampaignRow) {
    const published = campaignView(campaign, ctx.now());
    return {
      drawId: draw.id,
      memberId: draw.member_id,
      tier: draw.tier,
      campaign: published,
      catalogueVersion: draw.catalogue_version,
      odds: { tier: draw.tier, probability: draw.probability },
      algorithm: draw.algorithm,
      message: lotteryMessage({ campaign: draw.campaign, memberId: draw.member_id, tier: draw.tier }),
      value: draw.value,
      won: draw.won,
      prize: draw.won ? gift.fulfilment.prize : null,
      entitlementId: draw.grant_id === null ? null : String(draw.grant_id),
      cause: draw.cause_id,
      drawnAt: draw.drawn_at.toISOString(),
    };
  }

  async function campaignOf(draw: DrawRow): Promise<CampaignRow> {
    const campaign = await findCampaign(ctx.pool, draw.campaign);
    if (!campaign) throw new Error(`draw ${draw.id} names campaign ${draw.campaign}, which does not exist`);
    return campaign;
  }

  const routes = entitlementRoutes(app, ['lottery'], ctx.access.require('read'));

  /** The committed campaigns, newest first: commitments, and seeds of the campaigns that ended. */
  routes.get('/v1/lottery/commitments', commitmentsSchema, {
    summary: 'The committed campaigns: commitments, and the seeds of those that ended',
    request: { query: commitmentsQuerySchema },
    errors: [badField('query.limit', 'is out of range')],
    async handler({ query }) {
      const now = ctx.now();
      return {
        algorithm: LOTTERY_ALGORITHM,
        cadence: gift.fulfilment.campaignCadence,
        odds: gift.fulfilment.odds,
        verification: VERIFICATION,
        campaigns: (await listCampaigns(ctx.pool, query.limit)).map((row) => campaignView(row, now)),
      };
    },
  });

  /** One draw with everything needed to recompute it: the seed once its campaign has ended. */
  routes.get('/v1/lottery/draws/:drawId', drawSchema, {
    summary: 'One draw, with everything needed to recompute it',
    request: { params: drawParamsSchema },
    fieldPrefix: { params: ['params'] },
    errors: [badField('params.drawId', 'is not a UUID'), Errors.notFound.doc('no such draw')],
    async handler({ params }) {
      const draw = await findDraw(ctx.pool, params.drawId);
      if (!draw) throw Errors.notFound(`no draw ${params.drawId}`);
      return { ...drawView(draw, await campaignOf(draw)), verification: VERIFICATION };
    },
  });

  /** A member's draws (one per tier reached for the first time), and the odds at their tier now. */
  routes.get('/v1/members/:id/welcome-gift', welcomeGiftSchema, {
    summary: "A member's welcome-gift draws and odds",
    request: { params: memberPathSchema },
    errors: [badField('id', 'is not a member id')],
    async handler({ params }) {
      const [member, draws] = await Promise.all([
        readMember(ctx.pool, params.id),
        drawsOfMember(ctx.pool, params.id),
      ]);
      return {
        memberId: params.id,
        tier: member.tier,
        probability: gift.fulfilment.odds[member.tier],
        prize: gift.fulfilment.prize,
        draws: await Promise.all(draws.map(async (draw) => drawView(draw, await campaignOf(draw)))),
      };
    },
  });
}
