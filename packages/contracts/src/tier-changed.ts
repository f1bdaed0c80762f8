import { z } from 'zod';
import { envelopeSchema } from './common';
import { tierSchema } from './tiers';

/**
 * Why a member's tier was set:
 * - `first-score`: the member's first score placed them (direction `initial`);
 * - `score-increase`: a score change reached a higher tier (direction `up`);
 * - `monthly-evaluation`: the evaluation moved them down (direction `down`);
 * - `refund-clawback`: a refund took away the points a recent upgrade stood on, so the tier went back
 *   at once to the one the remaining points support (direction `down`).
 */
export const tierChangeReasonSchema = z.enum([
  'first-score',
  'score-increase',
  'monthly-evaluation',
  'refund-clawback',
]);

/**
 * `taobi.tier-changed.v1`: a member was placed in a tier for the first time, or changed tier
 * (docs/design.md, "Topics"). A first assignment has direction `initial` and `previousTier` null.
 */
export const tierChangedSchema = envelopeSchema
  .extend({
    /** The tier before the change; null for a first assignment (direction `initial`). */
    previousTier: tierSchema.nullable(),
    tier: tierSchema,
    direction: z.enum(['initial', 'up', 'down']),
    score: z.number().int().nonnegative(),
    /** The score-changed version that caused this change. */
    scoreVersion: z.number().int().nonnegative(),
    reason: tierChangeReasonSchema,
  })
  .refine((record) => (record.direction === 'initial') === (record.previousTier === null), {
    path: ['previousTier'],
    message: 'must be null exactly when direction is initial',
  });
export type TierChanged = z.infer<typeof tierChangedSchema>;
export type TierChangeReason = z.infer<typeof tierChangeReasonSchema>;
