import { drawWelcomeGift, LOTTERY_ALGORITHM, ONCE, welcomeGift } from '@taobi/benefits';
import { enqueueOutbox, withTransaction } from '@taobi/platform';
import type { FastifyInstance } from 'fastify';
import { grantRecord } from '../domain/grants';
import { insertGrants } from '../store/grants';
import { lockMember, readMember } from '../store/members';
import { findDraw, insertDraw, type WelcomeDrawRow } from '../store/welcome-draws';
import { emptyBodySchema, memberIdOf, parseOr400, type RouteContext } from './context';

const DAY_MS = 24 * 3600_000;

/** How anyone re-derives a draw from its audit record (also in the README). */
const VERIFICATION =
  'value = (first 6 bytes of HMAC-SHA256(key = hex-decoded seed, message = "taobi.welcome-gift.v1|" + catalogueVersion + "|" + memberId + "|" + tier), big-endian) / 2^48; won = value < probability';

function drawView(row: WelcomeDrawRow, prize: unknown) {
  return {
    memberId: row.member_id,
    drawn: true,
    draw: {
      seed: row.seed,
      algorithm: row.algorithm,
      catalogueVersion: row.catalogue_version,
      tier: row.tier,
      probability: row.probability,
      value: row.value,
      won: row.won,
      prize: row.won ? prize : null,
      entitlementId: row.grant_id === null ? null : String(row.grant_id),
      drawnAt: row.drawn_at.toISOString(),
    },
    verification: VERIFICATION,
  };
}

export function registerWelcomeGiftRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const lottery = welcomeGift(ctx.catalogue);

  /** The member's draw with everything needed to re-derive it, or the odds they would draw at now. */
  app.get('/v1/members/:id/welcome-gift', { onRequest: ctx.access.require('read') }, async (request) => {
    const memberId = memberIdOf(request);
    const draw = await findDraw(ctx.pool, memberId);
    if (draw) return drawView(draw, lottery.fulfilment.prize);
    const member = await readMember(ctx.pool, memberId);
    return {
      memberId,
      drawn: false,
      tier: member.tier,
      probability: lottery.fulfilment.odds[member.tier],
      prize: lottery.fulfilment.prize,
    };
  });

  /**
   * The member's one draw, at the odds of their tier now. A fresh 32-byte seed is drawn from the
   * CSPRNG and recorded with the odds, the value and the outcome; a win grants the voucher (one-time,
   * valid `voucherValidDays`). Drawing again returns the recorded draw (200), never a second one.
   */
  app.post(
    '/v1/members/:id/welcome-gift/draw',
    { onRequest: ctx.access.require('admin') },
    async (request, reply) => {
      const memberId = memberIdOf(request);
      parseOr400(emptyBodySchema, request.body, ['body']);
      const now = ctx.clock();
      const { row, created } = await withTransaction(ctx.pool, async (client) => {
        const member = await lockMember(client, memberId);
        const existing = await findDraw(client, memberId);
        if (existing) return { row: existing, created: false };
        const seed = ctx.newSeed();
        const outcome = drawWelcomeGift({
          seed,
          memberId,
          tier: member.tier,
          odds: lottery.fulfilment.odds,
          catalogueVersion: ctx.catalogue.version,
        });
        const [grant] = outcome.won
          ? await insertGrants(client, [
              {
                memberId,
                benefitId: lottery.id,
                kind: 'one-time',
                grantKey: ONCE,
                period: null,
                tier: member.tier,
                catalogueVersion: ctx.catalogue.version,
                cause: 'welcome-gift-draw',
                causeId: `welcome-gift:${memberId}`,
                details: { prize: lottery.fulfilment.prize, seed, value: outcome.value },
                grantedAt: now,
                expiresAt: new Date(now.getTime() + lottery.fulfilment.voucherValidDays * DAY_MS),
              },
            ])
          : [];
        const draw = await insertDraw(client, {
          member_id: memberId,
          seed,
          algorithm: LOTTERY_ALGORITHM,
          catalogue_version: ctx.catalogue.version,
          tier: member.tier,
          probability: outcome.probability,
          value: outcome.value,
          won: outcome.won,
          grant_id: grant?.id ?? null,
          drawn_at: now,
        });
        if (grant) {
          await enqueueOutbox(client, 'entitlement', [
            grantRecord(ctx.catalogue, grant, 'granted', member.tier, now),
          ]);
          ctx.entitlements.labels('granted', 'one-time').inc();
        }
        return { row: draw, created: true };
      });
      if (created) {
        ctx.wake();
        request.log.info({ memberId, tier: row.tier, won: row.won }, 'welcome gift drawn');
      }
      return reply.status(created ? 201 : 200).send(drawView(row, lottery.fulfilment.prize));
    },
  );
}
