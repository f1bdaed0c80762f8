import { LOTTERY_ALGORITHM, lotteryMessage, welcomeGift } from '@taobi/benefits';
import { Errors, pageLimit, parseOr400, routeDocs } from '@taobi/platform';
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
import { memberIdOf, memberPathSchema, type RouteContext } from './context';

const commitmentsQuerySchema = z.strictObject({ limit: pageLimit(520, 10) });
const drawParamsSchema = z.object({ drawId: z.uuid() });

const doc = routeDocs(['lottery']);
const DOCS = {
  commitments: doc(
    'The committed campaigns: commitments, and the seeds of those that ended',
    commitmentsSchema,
    {
      querystring: commitmentsQuerySchema,
      errors: { 400: 'VALIDATION_FAILED naming `query.limit`.' },
    },
  ),
  draw: doc('One draw, with everything needed to recompute it', drawSchema, {
    params: drawParamsSchema,
    errors: { 400: 'VALIDATION_FAILED: `drawId` is not a UUID.', 404: 'NOT_FOUND: no such draw.' },
  }),
  welcomeGift: doc("A member's welcome-gift draws and odds", welcomeGiftSchema, {
    params: memberPathSchema,
    errors: { 400: 'VALIDATION_FAILED naming `id`.' },
  }),
};

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
  const read = ctx.access.require('read');

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

  /** The committed campaigns, newest first: commitments, and seeds of the campaigns that ended. */
  app.get('/v1/lottery/commitments', { onRequest: read, schema: DOCS.commitments }, async (request) => {
    const query = parseOr400(commitmentsQuerySchema, request.query, ['query']);
    const now = ctx.now();
    return {
      algorithm: LOTTERY_ALGORITHM,
      cadence: gift.fulfilment.campaignCadence,
      odds: gift.fulfilment.odds,
      verification: VERIFICATION,
      campaigns: (await listCampaigns(ctx.pool, query.limit)).map((row) => campaignView(row, now)),
    };
  });

  /** One draw with everything needed to recompute it: the seed once its campaign has ended. */
  app.get('/v1/lottery/draws/:drawId', { onRequest: read, schema: DOCS.draw }, async (request) => {
    const { drawId } = parseOr400(drawParamsSchema, request.params, ['params']);
    const draw = await findDraw(ctx.pool, drawId);
    if (!draw) throw Errors.notFound(`no draw ${drawId}`);
    return { ...drawView(draw, await campaignOf(draw)), verification: VERIFICATION };
  });

  /** A member's draws (one per tier reached for the first time), and the odds at their tier now. */
  app.get('/v1/members/:id/welcome-gift', { onRequest: read, schema: DOCS.welcomeGift }, async (request) => {
    const memberId = memberIdOf(request);
    const [member, draws] = await Promise.all([
      readMember(ctx.pool, memberId),
      drawsOfMember(ctx.pool, memberId),
    ]);
    return {
      memberId,
      tier: member.tier,
      probability: gift.fulfilment.odds[member.tier],
      prize: gift.fulfilment.prize,
      draws: await Promise.all(draws.map(async (draw) => drawView(draw, await campaignOf(draw)))),
    };
  });
}
