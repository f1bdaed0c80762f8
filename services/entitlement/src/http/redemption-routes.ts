import { Errors, enqueueOutbox, parseOr400, withTransaction } from '@taobi/platform';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ineligibility, offerStatus, redeemedRecord, redemptionView } from '../domain/offers';
import { EntitlementErrors } from '../errors';
import { lockMember } from '../store/members';
import {
  claimBudget,
  findOffer,
  findRedemption,
  findRedemptionByKey,
  insertRedemption,
} from '../store/offers';
import { activeActivation } from '../store/vip88';
import { redemptionSchema } from './api-schemas';
import {
  checkoutCall,
  checkoutDocs,
  entitlementRoutes,
  memberIdOf,
  memberPathSchema,
  type RouteContext,
} from './context';

const offerParamsSchema = z.object({ offerId: z.uuid() });

export function registerRedemptionRoutes(app: FastifyInstance, ctx: RouteContext): void {
  /**
   * The checkout redeems an offer for a member: 201 the redemption, counted against the offer's
   * budget and published (`redeemed`); the same Idempotency-Key again answers the same redemption
   * (200), so a retried checkout counts once. The member row is locked first, so one member's calls
   * are decided one at a time; the budget is taken by a conditional UPDATE on the offer's row, so
   * however many members race, the offer is never redeemed more often than its budget (409
   * OFFER_BUDGET_EXHAUSTED after that). A member redeems an offer once (409 OFFER_ALREADY_REDEEMED),
   * only while it is live (409 OFFER_NOT_LIVE) and only if its audience holds them (409
   * OFFER_NOT_ELIGIBLE).
   */
  entitlementRoutes(app, ['offers']).post('/v1/members/:id/offers/:offerId/redemptions', redemptionSchema, {
    summary: 'Redeem an offer for a member (the checkout)',
    onRequest: ctx.access.require('checkout'),
    ...checkoutDocs({
      params: memberPathSchema.extend(offerParamsSchema.shape),
      created: redemptionSchema,
      noun: 'redemption',
      errors: [
        Errors.notFound.doc('no such offer'),
        EntitlementErrors.offerNotLive.doc('the offer is scheduled, ended or withdrawn'),
        EntitlementErrors.offerNotEligible.doc("the offer's audience does not hold the member"),
        EntitlementErrors.offerAlreadyRedeemed.doc('the member redeemed it already'),
        EntitlementErrors.offerBudgetExhausted.doc('its budget is used up'),
        EntitlementErrors.idempotencyKeyReused.doc('the same key for another offer'),
      ],
    }),
    // The member id first, named `id`; then the offer's, named `params.offerId`.
    checkedByHandler: true,
    async handler(request, reply) {
      const memberId = memberIdOf(request);
      const { offerId } = parseOr400(offerParamsSchema, request.params, ['params']);
      const idempotencyKey = checkoutCall(request);
      const { redemption, offer, created } = await withTransaction(ctx.pool, async (client) => {
        const member = await lockMember(client, memberId);
        const now = ctx.now();
        const replayed = await findRedemptionByKey(client, memberId, idempotencyKey);
        if (replayed) {
          if (replayed.offer_id !== offerId) throw EntitlementErrors.idempotencyKeyReused();
          return { redemption: replayed, offer: await findOffer(client, offerId), created: false };
        }
        const found = await findOffer(client, offerId);
        if (!found) throw Errors.notFound(`no offer ${offerId}`);
        const status = offerStatus(found, now);
        if (status === 'withdrawn' || status === 'scheduled' || status === 'ended') {
          throw EntitlementErrors.offerNotLive(offerId, status);
        }
        const holdsVip88 =
          found.audience_vip88 && (await activeActivation(client, memberId, now)) !== undefined;
        const reason = ineligibility(found, member.tier, holdsVip88);
        if (reason) throw EntitlementErrors.offerNotEligible(offerId, reason);
        const earlier = await findRedemption(client, offerId, memberId);
        if (earlier) throw EntitlementErrors.offerAlreadyRedeemed(offerId, earlier.id);
        const claimed = await claimBudget(client, offerId, now);
        if (!claimed) {
          const latest = (await findOffer(client, offerId)) ?? found;
          const latestStatus = offerStatus(latest, now);
          if (latestStatus !== 'exhausted') throw EntitlementErrors.offerNotLive(offerId, latestStatus);
          throw EntitlementErrors.offerBudgetExhausted(offerId, latest.budget);
        }
        const inserted = await insertRedemption(client, {
          offerId,
          memberId,
          idempotencyKey,
          tier: member.tier,
          redeemedAt: now,
        });
        await enqueueOutbox(client, 'entitlement', [redeemedRecord(inserted, claimed)]);
        return { redemption: inserted, offer: claimed, created: true };
      });
      if (!offer) throw new Error(`offer ${offerId} of redemption ${redemption.id} vanished`);
      if (created) {
        ctx.wake();
        request.log.info(
          { memberId, offerId, redemptionId: redemption.id, redeemed: offer.redeemed, budget: offer.budget },
          'offer redeemed',
        );
      }
      return reply.status(created ? 201 : 200).send(redemptionView(redemption, offer));
    },
  });
}
