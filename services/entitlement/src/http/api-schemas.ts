import { audienceSchema, CADENCES, catalogueSchema, tierOddsSchema } from '@taobi/benefits';
import { benefitKindSchema, isoTimeSchema, memberIdSchema, tierSchema } from '@taobi/contracts';
import { z } from 'zod';

/** The answers of entitlement's API, as documented in its OpenAPI document (`/openapi.json`). */

const count = z.number().int().nonnegative();
const price = z.object({ amount: count.describe('Fen.'), currency: z.literal('CNY') });
const object = z.record(z.string(), z.unknown());

export const benefitsSchema = catalogueSchema.describe('The benefit catalogue in force.');

export const entitlementSchema = z
  .object({
    id: z.string().describe('The grant id (decimal).'),
    benefitId: z.string(),
    name: z.string().nullable(),
    kind: benefitKindSchema,
    status: z.enum(['granted', 'used', 'revoked', 'expired']),
    period: z.string().nullable(),
    tier: tierSchema,
    grantedAt: isoTimeSchema,
    expiresAt: isoTimeSchema.nullable(),
    usedAt: isoTimeSchema.nullable(),
    revokedAt: isoTimeSchema.nullable(),
    expiredAt: isoTimeSchema.nullable(),
    cause: z.enum(['tier-change', 'periodic-issue', 'welcome-gift-draw', 'vip88-activation']),
    causeId: z.string(),
    catalogueVersion: z.string(),
    audience: audienceSchema.nullable(),
    vip88ActivationId: z.string().nullable(),
    fulfilment: object.nullable().describe("The catalogue's fulfilment of the benefit."),
    details: object,
  })
  .describe('One grant and its status.');

export const entitlementListSchema = z
  .object({
    memberId: memberIdSchema,
    tier: tierSchema,
    tierSince: isoTimeSchema.nullable(),
    entitlements: z.array(entitlementSchema),
    nextBefore: z
      .string()
      .nullable()
      .describe('Pass as `before` for the next (older) page; null at the end.'),
  })
  .describe("The member's grants, newest first.");

export const activationSchema = z
  .object({
    id: z.string(),
    memberId: memberIdSchema,
    tier: tierSchema,
    price,
    startsAt: isoTimeSchema,
    expiresAt: isoTimeSchema,
    catalogueVersion: z.string(),
  })
  .describe('An 88VIP term: the price is locked for it.');

export const vip88Schema = z
  .object({
    memberId: memberIdSchema,
    tier: tierSchema,
    eligibleForNominalPrice: z.boolean(),
    price,
    active: z.boolean(),
    expiresAt: isoTimeSchema.nullable(),
    activation: activationSchema.nullable(),
    bundle: z.array(entitlementSchema).describe("The running term's bundle grants."),
  })
  .describe('The 88VIP price the member qualifies for now, and any running term.');

const campaign = z.object({
  campaign: z.string(),
  startsAt: isoTimeSchema,
  endsAt: isoTimeSchema,
  commitment: z.string().describe('hex(SHA-256(seed)), published before the campaign.'),
  committedAt: isoTimeSchema,
  revealed: z.boolean(),
  seed: z.string().nullable().describe('Revealed once the campaign has ended.'),
});

const prize = object.describe("The lottery's prize.");
const draw = {
  drawId: z.uuid(),
  memberId: memberIdSchema,
  tier: tierSchema,
  campaign,
  catalogueVersion: z.string(),
  odds: z.object({ tier: tierSchema, probability: z.number().min(0).max(1) }),
  algorithm: z.string(),
  message: z.string(),
  value: z.number().min(0).max(1),
  won: z.boolean(),
  prize: prize.nullable(),
  entitlementId: z.string().nullable(),
  cause: z.string(),
  drawnAt: isoTimeSchema,
};

export const commitmentsSchema = z
  .object({
    algorithm: z.string(),
    cadence: z.enum(CADENCES),
    odds: tierOddsSchema,
    verification: z.string(),
    campaigns: z.array(campaign),
  })
  .describe('The committed campaigns, newest first, and how to verify a draw.');
export const drawSchema = z
  .object({ ...draw, verification: z.string() })
  .describe('One draw with what is needed to recompute it.');
export const welcomeGiftSchema = z
  .object({
    memberId: memberIdSchema,
    tier: tierSchema,
    probability: z.number().min(0).max(1),
    prize,
    draws: z.array(z.object(draw)),
  })
  .describe("The member's draws, and the odds at their tier now.");

export const offerSchema = z
  .object({
    id: z.uuid(),
    source: z.literal('merchant'),
    merchantId: z.string(),
    shopId: z.string().nullable(),
    title: z.string(),
    description: z.string(),
    percentOff: z.number().int(),
    audience: z.object({
      tiers: z.array(tierSchema).nullable(),
      categories: z.array(z.string()).nullable(),
      vip88: z.boolean().nullable(),
    }),
    validFrom: isoTimeSchema,
    validTo: isoTimeSchema,
    budget: count,
    redeemed: count,
    remaining: count,
    status: z.enum(['scheduled', 'live', 'exhausted', 'ended', 'withdrawn']),
    createdAt: isoTimeSchema,
    withdrawnAt: isoTimeSchema.nullable(),
  })
  .describe("A merchant's offer, with its budget use and status.");

export const merchantOffersSchema = z
  .object({ merchantId: z.string(), offers: z.array(offerSchema) })
  .describe("The key's merchant's offers, newest first.");

const programmeOffer = z.object({
  id: z.string(),
  source: z.literal('programme'),
  title: z.string(),
  description: z.string(),
  percentOff: z.number().int(),
  audience: audienceSchema,
  channel: z.string(),
});

export const memberOffersSchema = z
  .object({
    memberId: memberIdSchema,
    tier: tierSchema,
    vip88: z.boolean(),
    asOf: isoTimeSchema,
    offers: z.array(z.union([programmeOffer, offerSchema])),
  })
  .describe("What the member qualifies for now: the programme's offers, then merchants'.");

export const redemptionSchema = z
  .object({
    id: z.string(),
    offerId: z.uuid(),
    memberId: memberIdSchema,
    merchantId: z.string(),
    tier: tierSchema,
    percentOff: z.number().int(),
    redeemedAt: isoTimeSchema,
  })
  .describe('The redemption, counted against the offer’s budget.');

export const periodicGrantsSchema = z
  .object({
    runs: z.array(
      z.object({
        period: z.string(),
        cadence: z.enum(CADENCES),
        resumedAfter: z.string().nullable(),
        membersScanned: count,
        granted: count,
        pages: count,
        finished: z.boolean(),
      }),
    ),
    expired: count.describe('Grants swept to expired.'),
  })
  .describe('One run per period issued, and the expiry sweep.');

export const termEndsSchema = z
  .object({ termsClosed: count, revoked: count })
  .describe('88VIP terms closed and bundle grants revoked.');
