import { z } from 'zod';
import { envelopeSchema, isoTimeSchema, monthSchema } from './common';

const points = z.number().int();

/**
 * The sources `taobi.score-changed.v1` was first published with. Consumers of v1 read these keys,
 * so every breakdown carries them (0 when the member has no points there, or when a rule set no
 * longer has the source); this list is that promise, not the list of sources (the rule set's).
 */
export const SCORE_BREAKDOWN_V1_SOURCES = ['ecommerce', 'food', 'travel', 'mobility'] as const;

/**
 * Where a member's points come from: the base score plus one entry per source, keyed by the source
 * id. Any source of the rule set in force beyond the four of v1 is a further key
 * (`additionalProperties` in the JSON Schema).
 */
export const scoreBreakdownSchema = z
  .object({
    base: points.nonnegative(),
    ...(Object.fromEntries(
      SCORE_BREAKDOWN_V1_SOURCES.map((source) => [source, points.nonnegative()]),
    ) as Record<(typeof SCORE_BREAKDOWN_V1_SOURCES)[number], z.ZodNumber>),
  })
  .catchall(points.nonnegative())
  .describe(
    'Points by origin: `base`, then one key per source (source id → points). ecommerce, food, travel and mobility are always present; further sources of the rule set in force appear as further keys.',
  );
export type ScoreBreakdown = z.infer<typeof scoreBreakdownSchema>;

export const scoreChangeReasonSchema = z.enum(['consumption', 'monthly-evaluation', 'rebuild']);
export type ScoreChangeReason = z.infer<typeof scoreChangeReasonSchema>;

/**
 * `taobi.score-changed.v1`: a member's score moved. `version` increases by one with every change
 * of that member's score, so consumers can drop late or repeated records. The eventId is stable
 * (derived from memberId and version), so a re-published record dedupes downstream.
 */
export const scoreChangedSchema = envelopeSchema.extend({
  version: z.number().int().positive(),
  previousScore: points.nonnegative(),
  score: points.nonnegative(),
  breakdown: scoreBreakdownSchema,
  reason: scoreChangeReasonSchema,
  /** The consumption eventIds that caused the change (empty for evaluations and rebuilds). */
  causeEventIds: z.array(z.string()).max(1000),
  /**
   * The refunds among `causeEventIds` (absent or empty: none). Tier reads it to take back at once an
   * upgrade that a refund removed the points for ("refund-clawback").
   */
  refundEventIds: z.array(z.string()).max(1000).optional(),
  ruleVersion: z.string().min(1),
  /** The rolling 12-month window the score covers, as Asia/Shanghai months. */
  window: z.object({ from: monthSchema, to: monthSchema }),
  /** What the next monthly evaluation will expire, so the tier service can forecast. */
  expiringAtNextEvaluation: z.object({
    points: points.nonnegative(),
    evaluationAt: isoTimeSchema,
  }),
});
export type ScoreChanged = z.infer<typeof scoreChangedSchema>;

export function scoreChangedEventId(memberId: string, version: number): string {
  return `score:${memberId}:${version}`;
}
