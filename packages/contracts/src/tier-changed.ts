import { z } from 'zod';
import { envelopeSchema, isoTimeSchema, monthSchema } from './common';
import { tierSchema } from './tiers';

export const tierChangeReasonSchema = z.enum(['score-increase', 'monthly-evaluation']);

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

/** `taobi.tier-changed.v1`: a member changed tier (docs/design.md, "Topics"). */
export const tierChangedSchema = envelopeSchema.extend({
  previousTier: tierSchema,
  tier: tierSchema,
  direction: z.enum(['up', 'down']),
  score: z.number().int().nonnegative(),
  /** The score-changed version that caused this change. */
  scoreVersion: z.number().int().nonnegative(),
  reason: tierChangeReasonSchema,
  /** Added to v1 (optional: records written before it lack it): why, as the decisions table keeps it. */
  decision: tierDecisionSchema.optional(),
});
export type TierChanged = z.infer<typeof tierChangedSchema>;
