import { z } from 'zod';
import { envelopeSchema, externalIdSchema } from './common';
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
]);
export type EntitlementAction = z.infer<typeof entitlementActionSchema>;

/** `taobi.entitlement-changed.v1`: a benefit was granted, revoked or used, or 88VIP changed. */
export const entitlementChangedSchema = envelopeSchema.extend({
  benefitId: externalIdSchema,
  benefitKind: benefitKindSchema,
  action: entitlementActionSchema,
  /** The member's tier when the change happened. */
  tier: tierSchema,
  /** The period of a periodic benefit (e.g. `2026-11`, `2026-W47`); null otherwise. */
  period: z.string().max(32).nullable(),
  details: z.record(z.string(), z.unknown()).default({}),
});
export type EntitlementChanged = z.infer<typeof entitlementChangedSchema>;
