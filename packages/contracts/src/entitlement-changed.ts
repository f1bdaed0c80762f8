import { z } from 'zod';
import { envelopeSchema, externalIdSchema, memberIdSchema } from './common';
import { tierSchema } from './tiers';

export const benefitKindSchema = z.enum(['status', 'one-time', 'periodic', 'offer', 'membership']);
export type BenefitKind = z.infer<typeof benefitKindSchema>;

export const entitlementActionSchema = z.enum([
  'granted',
  'revoked',
  'used',
  'expired',
  /** 88VIP: the member's price changed between nominal (88 CNY) and standard (888 CNY). */
  'eligibility-changed',
  /** 88VIP: the member activated a 12-month term. */
  'activated',
  /** A merchant offer: created (no member: `memberId` and `tier` null, `merchantId` set). */
  'published',
  /** A merchant offer: withdrawn by its merchant (no member, like `published`). */
  'withdrawn',
  /** A merchant offer: redeemed by a member at checkout, counted against its budget. */
  'redeemed',
]);
export type EntitlementAction = z.infer<typeof entitlementActionSchema>;

/** The actions about an offer itself rather than a member: their records carry no member. */
export const OFFER_LIFECYCLE_ACTIONS: readonly EntitlementAction[] = ['published', 'withdrawn'];

/**
 * `taobi.entitlement-changed.v1`: a benefit was granted, revoked or used, 88VIP changed, or a
 * merchant offer was published, withdrawn or redeemed. Records about a member are keyed by the
 * member; an offer's `published` / `withdrawn` records have no member and are keyed by the merchant.
 */
export const entitlementChangedSchema = envelopeSchema
  .extend({
    /** The member; null only on an offer's `published` and `withdrawn` records. */
    memberId: memberIdSchema.nullable(),
    benefitId: externalIdSchema,
    benefitKind: benefitKindSchema,
    action: entitlementActionSchema,
    /** The member's tier when the change happened; null when there is no member. */
    tier: tierSchema.nullable(),
    /** The period of a periodic benefit (e.g. `2026-11`, `2026-W47`); null otherwise. */
    period: z.string().max(32).nullable(),
    /** The merchant of an offer's records (`benefitKind: "offer"` with an offer id as `benefitId`). */
    merchantId: externalIdSchema.optional(),
    details: z.record(z.string(), z.unknown()).default({}),
  })
  .refine((record) => (record.memberId === null) === OFFER_LIFECYCLE_ACTIONS.includes(record.action), {
    path: ['memberId'],
    message: 'must be null exactly for an offer published or withdrawn',
  })
  .refine((record) => (record.tier === null) === (record.memberId === null), {
    path: ['tier'],
    message: 'must be null exactly when memberId is null',
  });
export type EntitlementChanged = z.infer<typeof entitlementChangedSchema>;
