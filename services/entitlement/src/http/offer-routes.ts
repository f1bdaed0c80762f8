import { benefitsAt } from '@taobi/benefits';
import { categorySchema, isoTimeSchema, type Tier, tierSchema } from '@taobi/contracts';
import {
  badField,
  badFields,
  COMMON_ERRORS,
  callerOf,
  Errors,
  enqueueOutbox,
  merchantIdSchema,
  pageLimit,
  parseOr400,
  withTransaction,
} from '@taobi/platform';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { offerRecord, offerView } from '../domain/offers';
import { EntitlementErrors } from '../errors';
import { readMember } from '../store/members';
import {
  findOffer,
  findOfferByKey,
  insertOffer,
  type NewOffer,
  type OfferRow,
  offersForMember,
  offersOfMerchant,
  withdrawOffer,
} from '../store/offers';
import { activeActivation } from '../store/vip88';
import { memberOffersSchema, merchantOffersSchema, offerSchema as offerAnswerSchema } from './api-schemas';
import { entitlementRoutes, idempotencyKeySchema, memberPathSchema, type RouteContext } from './context';

const distinct = <T extends z.ZodType>(item: T) =>
  z
    .array(item)
    .min(1)
    .refine((items) => new Set(items).size === items.length, 'must not repeat an entry');

/**
 * A product category of the rule set in force (sources are data: the categories are every source's
 * there), so an offer never targets a category no order can have.
 */
function ruleSetCategory(categories: readonly string[]) {
  return categorySchema.refine((category) => categories.includes(category), {
    message: `must be a category of the rule set (${categories.join(', ')})`,
  });
}

function newOfferSchema(categories: readonly string[]) {
  return z
    .strictObject({
      /** Optional, for clients of the earlier API: when given it must be the key's own merchant. */
      merchantId: merchantIdSchema.optional(),
      /** One shop of the merchant; absent: all of them. */
      shopId: merchantIdSchema.optional(),
      title: z.string().trim().min(1).max(120),
      description: z.string().max(500).default(''),
      percentOff: z.number().int().min(1).max(90),
      /** Who may redeem it; every part optional (absent: no restriction), all given parts must hold. */
      audience: z
        .strictObject({
          tiers: distinct(tierSchema).optional(),
          categories: distinct(ruleSetCategory(categories)).optional(),
          vip88: z.boolean().optional(),
        })
        .default({}),
      validFrom: isoTimeSchema,
      validTo: isoTimeSchema,
      /** The most redemptions the offer may ever have. */
      budget: z.number().int().min(1).max(10_000_000),
    })
    .refine((offer) => Date.parse(offer.validFrom) < Date.parse(offer.validTo), {
      path: ['validTo'],
      message: 'must be after validFrom',
    });
}

const offerParamsSchema = z.object({ offerId: z.uuid() });

function sameOffer(row: OfferRow, offer: NewOffer): boolean {
  return (
    row.shop_id === offer.shopId &&
    row.title === offer.title &&
    row.description === offer.description &&
    row.percent_off === offer.percentOff &&
    JSON.stringify([row.audience_tiers, row.audience_categories, row.audience_vip88]) ===
      JSON.stringify([offer.audience.tiers, offer.audience.categories, offer.audience.vip88]) &&
    row.valid_from.getTime() === offer.validFrom.getTime() &&
    row.valid_to.getTime() === offer.validTo.getTime() &&
    row.budget === offer.budget
  );
}

/** The merchant a merchant key is bound to. */
function merchantOf(request: FastifyRequest): string {
  return callerOf(request).merchantId as string;
}

export function registerOfferRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const merchantKey = ctx.access.require('merchant');
  const offerSchema = newOfferSchema(ctx.categories);
  const category = ruleSetCategory(ctx.categories);
  const merchantListQuery = z.strictObject({ limit: pageLimit(500, 100) });
  const memberOffersQuery = z.strictObject({
    limit: pageLimit(500, 100),
    category: category.optional(),
    merchantId: merchantIdSchema.optional(),
  });
  const routes = entitlementRoutes(app, ['offers'], merchantKey);

  /**
   * A merchant targets members: any combination of tiers, product categories and 88VIP holders,
   * for a window and a budget of redemptions. The merchant is the key's. With an Idempotency-Key a
   * retried create returns the first offer (200); the same key with a different offer is a 422.
   * The offer is published (`published`, keyed by the merchant) in the same transaction.
   */
  routes.post('/v1/offers', offerAnswerSchema, {
    summary: "Create an offer of the key's merchant",
    status: 201,
    responses: { 200: offerAnswerSchema.describe('The same Idempotency-Key again: the first offer.') },
    request: { body: offerSchema },
    headers: z.object({ 'idempotency-key': idempotencyKeySchema.optional() }),
    errors: [
      badFields('the body or the Idempotency-Key header'),
      Errors.forbidden.doc("another merchant's `merchantId`"),
      EntitlementErrors.idempotencyKeyReused.doc('the same key with a different offer'),
    ],
    async handler({ body }, request, reply) {
      const merchantId = merchantOf(request);
      if (body.merchantId !== undefined && body.merchantId !== merchantId) {
        throw Errors.forbidden(`this key creates offers for merchant ${merchantId} only`);
      }
      const keyHeader = request.headers['idempotency-key'];
      const idempotencyKey =
        keyHeader === undefined
          ? null
          : parseOr400(idempotencyKeySchema, keyHeader, ['headers', 'idempotency-key']);
      const offer: NewOffer = {
        merchantId,
        shopId: body.shopId ?? null,
        title: body.title,
        description: body.description,
        percentOff: body.percentOff,
        audience: {
          tiers: body.audience.tiers ?? null,
          categories: body.audience.categories ?? null,
          vip88: body.audience.vip88 ?? false,
        },
        validFrom: new Date(body.validFrom),
        validTo: new Date(body.validTo),
        budget: body.budget,
        idempotencyKey,
      };
      const now = ctx.now();
      if (offer.validTo.getTime() <= now.getTime()) {
        throw Errors.validation([{ field: 'validTo', message: 'must be in the future' }]);
      }
      const { row, created } = await withTransaction(ctx.pool, async (client) => {
        const inserted = await insertOffer(client, offer);
        if (inserted) {
          await enqueueOutbox(client, 'entitlement', [offerRecord(inserted, 'published', now)]);
          return { row: inserted, created: true };
        }
        const existing = await findOfferByKey(client, merchantId, idempotencyKey as string);
        if (!existing || !sameOffer(existing, offer)) throw EntitlementErrors.idempotencyKeyReused();
        return { row: existing, created: false };
      });
      if (created) {
        ctx.wake();
        request.log.info({ offerId: row.id, merchantId, budget: row.budget }, 'offer published');
      }
      return reply.status(created ? 201 : 200).send(offerView(row, now));
    },
  });

  /** The key's merchant's own offers, newest first, with their budget use and status. */
  routes.get('/v1/offers', merchantOffersSchema, {
    summary: "The key's merchant's offers",
    request: { query: merchantListQuery },
    errors: [badField('query.limit', 'is out of range')],
    async handler({ query }, request) {
      const now = ctx.now();
      const rows = await offersOfMerchant(ctx.pool, merchantOf(request), query.limit);
      return { merchantId: merchantOf(request), offers: rows.map((row) => offerView(row, now)) };
    },
  });

  /**
   * Withdraws one of the key's merchant's offers: members stop seeing and redeeming it at once (the
   * row is kept) and `withdrawn` is published once. Another merchant's offer: 403; unknown: 404.
   */
  routes.delete('/v1/offers/:offerId', offerAnswerSchema, {
    summary: "Withdraw one of the key's merchant's offers",
    request: { params: offerParamsSchema },
    errors: [
      badField('offerId', 'is not a UUID'),
      Errors.forbidden.doc("another merchant's offer"),
      Errors.notFound.doc('no such offer'),
    ],
    async handler({ params: { offerId } }, request) {
      const merchantId = merchantOf(request);
      const now = ctx.now();
      const row = await withTransaction(ctx.pool, async (client) => {
        const offer = await findOffer(client, offerId);
        if (!offer) throw Errors.notFound(`no offer ${offerId}`);
        if (offer.merchant_id !== merchantId)
          throw Errors.forbidden(`offer ${offerId} is another merchant's`);
        const withdrawn = (await withdrawOffer(client, offerId, now)) as OfferRow;
        await enqueueOutbox(client, 'entitlement', [offerRecord(withdrawn, 'withdrawn', now)]);
        return withdrawn;
      });
      ctx.wake();
      return offerView(row, now);
    },
  });

  /**
   * What the member qualifies for now: the programme offers of their tier (and of the 88VIP bundle
   * while a term runs) from the catalogue, then merchants' live offers with budget left whose
   * audience holds the member and which the member has not redeemed. `category` and `merchantId`
   * narrow the merchant offers (programme offers are listed only without them).
   */
  routes.get('/v1/members/:id/offers', memberOffersSchema, {
    summary: 'The offers a member qualifies for now',
    onRequest: ctx.access.require('read'),
    request: { params: memberPathSchema, query: memberOffersQuery },
    errors: COMMON_ERRORS.badParameter,
    async handler({ params, query }) {
      const memberId = params.id;
      const now = ctx.now();
      const [member, term] = await Promise.all([
        readMember(ctx.pool, memberId),
        activeActivation(ctx.pool, memberId, now),
      ]);
      const vip88 = term !== undefined;
      const filtered = query.category !== undefined || query.merchantId !== undefined;
      const programme = filtered
        ? []
        : benefitsAt(ctx.catalogue, member.tier, { vip88 }).flatMap((benefit) =>
            benefit.kind === 'offer'
              ? [
                  {
                    id: benefit.id,
                    source: 'programme' as const,
                    title: benefit.name,
                    description: benefit.description,
                    percentOff: benefit.fulfilment.percentOff,
                    audience: benefit.audience,
                    channel: benefit.fulfilment.channel,
                  },
                ]
              : [],
          );
      const merchant = await offersForMember(ctx.pool, {
        memberId,
        tier: member.tier as Tier,
        vip88,
        category: query.category,
        merchantId: query.merchantId,
        now,
        limit: query.limit,
      });
      return {
        memberId,
        tier: member.tier,
        vip88,
        asOf: now.toISOString(),
        offers: [...programme, ...merchant.map((row) => offerView(row, now))],
      };
    },
  });
}
