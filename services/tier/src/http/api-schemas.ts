import { isoTimeSchema, memberIdSchema, tierDecisionSchema, tierSchema } from '@taobi/contracts';
import { z } from 'zod';

/** The answers of tier's API, as documented in its OpenAPI document (`/openapi.json`). */

const count = z.number().int().nonnegative();

export const tierTableSchema = z
  .object({
    ruleVersion: z.string(),
    tiers: z.array(z.object({ tier: tierSchema, rank: count, threshold: count })),
    downgrade: z.enum(['to-supported-tier', 'one-tier-at-a-time']),
    clawbackDays: count.describe('How long after an upgrade a refund takes it back.'),
    evaluation: z.object({
      dayOfMonth: z.number().int().min(1).max(28),
      timeZone: z.literal('Asia/Shanghai'),
      nextAt: isoTimeSchema,
    }),
  })
  .describe('The tier table in force, the downgrade policy and the evaluation calendar.');

export const distributionSchema = z
  .object({
    tiers: z.array(z.object({ tier: tierSchema, members: count })),
    total: count,
    countsMembersSeen: z.literal(true).describe('Members never seen are Bronze too, but not counted.'),
    asOf: isoTimeSchema,
  })
  .describe('Members per tier.');

const memberTierFields = {
  memberId: memberIdSchema,
  tier: tierSchema,
  score: count,
  since: isoTimeSchema.nullable().describe('When the member entered the tier; null for a member never seen.'),
  next: z.object({ tier: tierSchema, threshold: count, pointsNeeded: count }).nullable(),
  downgradePending: z.boolean(),
  keep: z.object({
    tier: tierSchema,
    threshold: count,
    evaluationAt: isoTimeSchema,
    expiringPoints: count,
    forecastScore: count,
    pointsNeeded: count,
  }),
  scoreVersion: count,
  ruleVersion: z.string(),
  asOf: isoTimeSchema.optional().describe('With `?asOf=`: the instant the answer is as of.'),
};

export const memberTierSchema = z
  .object(memberTierFields)
  .describe('The member as a member centre shows it: tier, progress, what keeps the tier.');

export const tierHistorySchema = z
  .object({
    memberId: memberIdSchema,
    decisions: z.array(
      tierDecisionSchema.extend({ eventId: z.string(), decidedAt: isoTimeSchema, revision: count }),
    ),
    nextCursor: z
      .string()
      .nullable()
      .describe('Pass as `cursor` for the next (older) page; null at the end.'),
  })
  .describe("The member's tier decisions, newest first.");

export const forecastSchema = z
  .object({
    memberId: memberIdSchema,
    tier: tierSchema,
    score: count,
    evaluations: z.array(
      z.object({
        at: isoTimeSchema,
        expiringPoints: count,
        projectedScore: count,
        projectedTier: tierSchema,
        pointsToKeep: count,
        willDrop: z.boolean(),
      }),
    ),
    willDrop: z.boolean(),
    dropTo: tierSchema.nullable(),
    dropAt: isoTimeSchema.nullable(),
  })
  .describe('The next three evaluations without new activity.');

const evaluationFields = {
  asOf: isoTimeSchema,
  status: z.enum(['running', 'completed']),
  trigger: z.enum(['schedule', 'catch-up', 'admin']),
  membersEvaluated: count,
  downgrades: count,
  startedAt: isoTimeSchema,
  completedAt: isoTimeSchema.nullable(),
};

export const evaluationSchema = z.object(evaluationFields).describe('One monthly evaluation.');

export const evaluationRunSchema = z
  .object({ ...evaluationFields, alreadyCompleted: z.boolean() })
  .describe('The evaluation, complete; `alreadyCompleted` when it had run before (nothing was done).');

export const evaluationListSchema = z
  .object({ evaluations: z.array(evaluationSchema) })
  .describe('The latest evaluations, newest first.');
