import { z } from 'zod';
import { envelopeSchema } from './common';
import { tierSchema } from './tiers';

export const tierChangeReasonSchema = z.enum(['score-increase', 'monthly-evaluation']);

/** `taobi.tier-changed.v1`: a member changed tier (docs/design.md, "Topics"). */
export const tierChangedSchema = envelopeSchema.extend({
  previousTier: tierSchema,
  tier: tierSchema,
  direction: z.enum(['up', 'down']),
  score: z.number().int().nonnegative(),
  /** The score-changed version that caused this change. */
  scoreVersion: z.number().int().nonnegative(),
  reason: tierChangeReasonSchema,
});
export type TierChanged = z.infer<typeof tierChangedSchema>;
