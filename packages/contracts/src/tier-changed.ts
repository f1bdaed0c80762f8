import { z } from 'zod';
import { envelopeSchema, isoTimeSchema, monthSchema } from './common';
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
 * Why a member's tier changed, as the tier service decided it and keeps it forever (its decisions
 * table, `GET /v1/members/:id/tier/history`): the score decided on and the threshold it crossed,
 * under which rule version, and for an evaluation the window it counted and the months that left.
 */
export const tierDecisionSchema = z.object({
  /** When the change took effect: the causing score change's occurredAt, or the evaluation's asOf. */
  at: isoTimeSchema,
  /** The tier before; null for a member's first assignment. */
  from: tierSchema.nullable(),
  to: tierSchema,
  direction: z.enum(['initial', 'up', 'down']),
  reason: tierChangeReasonSchema,
  /** The score the decision was made on (for an evaluation: after the months that left). */
  score: z.number().int().nonnegative(),
  scoreVersion: z.number().int().nonnegative(),
  /**
   * The threshold crossed: the new tier's lowest score for a move up (or a first assignment), the
   * lost tier's for a move down (the score fell below it).
   */
  threshold: z.number().int().nonnegative(),
  /** The rule set whose thresholds decided. */
  ruleVersion: z.string().min(1),
  /** For an evaluation: its instant, and the months it counted (`windowFrom`..`windowTo`); else null. */
  evaluationAsOf: isoTimeSchema.nullable(),
  windowFrom: monthSchema.nullable(),
  windowTo: monthSchema.nullable(),
  /** For an evaluation: the months whose points left the score at it, oldest first; else empty. */
  expiredMonths: z.array(z.object({ month: monthSchema, points: z.number().int().nonnegative() })),
});
export type TierDecision = z.infer<typeof tierDecisionSchema>;

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
    /** Added to v1 (optional: records written before it lack it): why, as the decisions table keeps it. */
    decision: tierDecisionSchema.optional(),
  })
  .refine((record) => (record.direction === 'initial') === (record.previousTier === null), {
    path: ['previousTier'],
    message: 'must be null exactly when direction is initial',
  });
export type TierChanged = z.infer<typeof tierChangedSchema>;
export type TierChangeReason = z.infer<typeof tierChangeReasonSchema>;
