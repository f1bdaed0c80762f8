import { benefitsAt } from '@taobi/benefits';
import { externalIdSchema, isoTimeSchema, tierRank, tierSchema } from '@taobi/contracts';
import { Errors, withTransaction } from '@taobi/platform';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { EntitlementErrors } from '../errors';
import { readMember } from '../store/members';
import {
  findOfferByKey,
  insertOffer,
  liveOffersFor,
  type NewOffer,
  type OfferRow,
  withdrawOffer,
} from '../store/offers';
import { activeActivation } from '../store/vip88';
import { idempotencyKeySchema, memberIdOf, parseOr400, type RouteContext } from './context';

const newOfferSchema = z
  .strictObject({
    merchantId: externalIdSchema,
    shopId: externalIdSchema,
    title: z.string().trim().min(1).max(120),
    description: z.string().max(500).default(''),
    minTier: tierSchema,
    percentOff: z.number().int().min(1).max(90),
    validFrom: isoTimeSchema,
    validTo: isoTimeSchema,
  })
  .refine((offer) => Date.parse(offer.validFrom) < Date.parse(offer.validTo), {
    path: ['validTo'],
    message: 'must be after validFrom',
  });

function offerView(row: OfferRow) {
  return {
    id: row.id,
    source: 'merchant' as const,
    merchantId: row.merchant_id,
    shopId: row.shop_id,
    title: row.title,
    description: row.description,
    minTier: row.min_tier,
    discount: { percentOff: row.percent_off },
    validFrom: row.valid_from.toISOString(),
    validTo: row.valid_to.toISOString(),
    createdAt: row.created_at.toISOString(),
    withdrawnAt: row.withdrawn_at?.toISOString() ?? null,
  };
}

function sameOffer(row: OfferRow, offer: NewOffer): boolean {
  return (
    row.shop_id === offer.shopId &&
    row.title === offer.title &&
    row.description === offer.description &&
    row.min_tier === offer.minTier &&
    row.percent_off === offer.percentOff &&
    row.valid_from.getTime() === offer.validFrom.getTime() &&
    row.valid_to.getTime() === offer.validTo.getTime()
  );
}

export function registerOfferRoutes(app: FastifyInstance, ctx: RouteContext): void {
  /**
   * A merchant targets a minimum tier (e.g. Diamond and above: 10% off in one shop) for a window.
   * With an Idempotency-Key, a retried create returns the first offer (200); the same key with a
   * different offer is a 422.
   */
  app.post('/v1/offers', { onRequest: ctx.access.require('admin') }, async (request, reply) => {
    const body = parseOr400(newOfferSchema, request.body ?? {}, []);
    const keyHeader = request.headers['idempotency-key'];
    const idempotencyKey =
      keyHeader === undefined
        ? null
        : parseOr400(idempotencyKeySchema, keyHeader, ['headers', 'idempotency-key']);
    const offer: NewOffer = {
      merchantId: body.merchantId,
      shopId: body.shopId,
      title: body.title,
      description: body.description,
      minTier: body.minTier,
      minTierRank: tierRank(body.minTier),
      percentOff: body.percentOff,
      validFrom: new Date(body.validFrom),
      validTo: new Date(body.validTo),
      idempotencyKey,
    };
    if (offer.validTo.getTime() <= ctx.clock().getTime()) {
      throw Errors.validation([{ field: 'validTo', message: 'must be in the future' }]);
    }
    const { row, created } = await withTransaction(ctx.pool, async (client) => {
      const inserted = await insertOffer(client, offer);
      if (inserted) return { row: inserted, created: true };
      const existing = await findOfferByKey(client, offer.merchantId, idempotencyKey as string);
      if (!existing || !sameOffer(existing, offer)) throw EntitlementErrors.idempotencyKeyReused();
      return { row: existing, created: false };
    });
    if (created)
      request.log.info(
        { offerId: row.id, merchantId: row.merchant_id, minTier: row.min_tier },
        'offer created',
      );
    return reply.status(created ? 201 : 200).send(offerView(row));
  });

  /** Withdraws an offer: members stop seeing it at once (the row is kept). */
  app.delete('/v1/offers/:offerId', { onRequest: ctx.access.require('admin') }, async (request) => {
    const { offerId } = parseOr400(z.object({ offerId: z.uuid() }), request.params, []);
    const row = await withdrawOffer(ctx.pool, offerId, ctx.clock());
    if (!row) throw Errors.notFound(`no offer ${offerId}`);
    return offerView(row);
  });

  /** What the member qualifies for now: programme offers from the catalogue, then merchants' offers. */
  app.get('/v1/members/:id/offers', { onRequest: ctx.access.require('read') }, async (request) => {
    const memberId = memberIdOf(request);
    const query = parseOr400(
      z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
      request.query,
      ['query'],
    );
    const now = ctx.clock();
    const [member, vip88] = await Promise.all([
      readMember(ctx.pool, memberId),
      activeActivation(ctx.pool, memberId, now),
    ]);
    const programme = benefitsAt(ctx.catalogue, member.tier, { vip88: vip88 !== undefined })
      .filter((benefit) => benefit.kind === 'offer')
      .map((benefit) => ({
        id: benefit.id,
        source: 'programme' as const,
        title: benefit.name,
        description: benefit.description,
        audience: benefit.audience,
        discount: { percentOff: benefit.fulfilment.percentOff },
        channel: benefit.fulfilment.channel,
      }));
    const merchant = await liveOffersFor(ctx.pool, tierRank(member.tier), now, query.limit);
    return {
      memberId,
      tier: member.tier,
      asOf: now.toISOString(),
      offers: [...programme, ...merchant.map(offerView)],
    };
  });
}
