import {
  backtestAnswerSchema,
  backtestSummaryFields,
  isoTimeSchema,
  memberIdSchema,
  monthSchema,
  scoreBreakdownSchema,
} from '@taobi/contracts';
import { ruleSetSchema } from '@taobi/rules';
import { z } from 'zod';

/** The answers of scoring's API, as documented in its OpenAPI document (`/openapi.json`). */

const count = z.number().int().nonnegative();
const expiring = z
  .object({ points: count, evaluationAt: isoTimeSchema })
  .nullable()
  .describe('Points that leave the score at the next evaluation, when any.');

export const scoreSchema = z
  .object({
    memberId: memberIdSchema,
    score: count,
    breakdown: scoreBreakdownSchema,
    window: z.object({ from: monthSchema, to: monthSchema }),
    ruleVersion: z.string(),
    updatedAt: isoTimeSchema.nullable().describe('Null for a member never seen (the base score).'),
    version: count,
    expiringAtNextEvaluation: expiring,
    asOf: isoTimeSchema.optional().describe('With `?asOf=`: the instant the answer is as of.'),
  })
  .describe('The member’s score; `x-read-source` says what answered (redis, postgres, history, default).');

const refund = { refundId: z.string(), eventId: z.string(), amount: count, occurredAt: isoTimeSchema };

export const scoreHistorySchema = z
  .object({
    memberId: memberIdSchema,
    windowFrom: monthSchema.nullable(),
    months: z.array(
      z.object({
        month: monthSchema,
        source: z.string(),
        orderPoints: count,
        qualifyingOrders: count,
        amountPoints: count,
        frequencyPoints: count,
        points: count,
        status: z.enum(['counted', 'expired']),
        expiryMonth: monthSchema,
        expiresAt: isoTimeSchema,
      }),
    ),
    contributions: z.array(
      z.object({
        eventId: z.string(),
        orderId: z.string(),
        source: z.string(),
        channel: z.string(),
        category: z.string(),
        merchantId: z.string().nullable(),
        occurredAt: isoTimeSchema,
        month: monthSchema,
        amount: count,
        refunded: count,
        netAmount: count,
        points: count,
        qualifiesForFrequency: z.boolean(),
        refunds: z.array(z.object(refund)),
        status: z.enum(['counted', 'expired']),
        expiryMonth: monthSchema,
        expiresAt: isoTimeSchema,
      }),
    ),
    heldRefunds: z.array(z.object({ ...refund, orderId: z.string(), source: z.string() })),
    nextCursor: z
      .string()
      .nullable()
      .describe('Pass as `cursor` for the next (older) page; null at the end.'),
  })
  .describe(
    'What the score is made of: months per source, and the orders (newest first) with their refunds.',
  );

export const scoreVersionsSchema = z
  .object({
    memberId: memberIdSchema,
    versions: z.array(
      z.object({
        version: count,
        score: count,
        breakdown: scoreBreakdownSchema,
        windowFrom: monthSchema,
        ruleVersion: z.string(),
        reason: z.string(),
        committedAt: isoTimeSchema,
        expiringAtNextEvaluation: expiring,
        logPosition: z
          .object({ partition: count, firstOffset: z.string(), lastOffset: z.string() })
          .nullable()
          .describe('The consumption records the version folded, when it folded some.'),
      }),
    ),
    nextAfter: count.nullable().describe('Pass as `after` for the next page; null at the end.'),
  })
  .describe('Every version of the member’s score as written, oldest first.');

const ruleSetViewFields = {
  version: z.string(),
  effectiveFrom: isoTimeSchema,
  effectiveTo: isoTimeSchema.nullable(),
  origin: z.enum(['configured', 'adopted']),
  adoptedAt: isoTimeSchema,
  backtestId: z.string().nullable(),
  score: ruleSetSchema.shape.score,
  tiers: ruleSetSchema.shape.tiers,
  evaluation: ruleSetSchema.shape.evaluation,
};
const ruleSetView = z.object(ruleSetViewFields);

export const rulesAtSchema = z
  .object({ asOf: isoTimeSchema, ...ruleSetViewFields })
  .describe('The rule set in force at `asOf`, with its validity.');
export const ruleVersionsSchema = z
  .object({ inForce: z.string(), versions: z.array(ruleSetView) })
  .describe('Every rule-set version, oldest first.');
export const adoptedSchema = z
  .object({ ...ruleSetViewFields, requestedEffectiveFrom: isoTimeSchema })
  .describe(
    'The adopted version; it takes effect at the first evaluation on or after the requested instant.',
  );

export const evaluationSchema = z
  .object({
    evaluationAt: isoTimeSchema,
    windowFrom: monthSchema,
    alreadyCompleted: z.boolean(),
    membersEvaluated: count,
    membersChanged: count,
    pointsExpired: count,
    startedAt: isoTimeSchema,
    completedAt: isoTimeSchema,
  })
  .describe('The evaluation, complete.');
export const evaluationListSchema = z
  .object({
    evaluations: z.array(
      z.object({
        evaluationAt: isoTimeSchema,
        windowFrom: monthSchema,
        startedAt: isoTimeSchema,
        completedAt: isoTimeSchema.nullable(),
        membersEvaluated: count,
        membersChanged: count,
        pointsExpired: count,
      }),
    ),
  })
  .describe('The latest 120 evaluations, newest first.');
export const rebuildSchema = z
  .object({
    ruleVersion: z.string(),
    membersScanned: count,
    membersChanged: count,
    ordersChanged: count,
    bucketsChanged: count,
    changes: z.array(z.object({ memberId: memberIdSchema, previousScore: count, score: count })),
  })
  .describe('What the rebuild changed; `changes` lists the first 100 members whose score moved.');
export const refillSchema = z
  .object({ membersScanned: count, written: count })
  .describe('Redis entries written (Redis held nothing, or an older version).');

export const backtestStartedSchema = z
  .object({ id: z.uuid(), status: z.enum(['running', 'completed', 'failed']) })
  .describe('The backtest started: follow it at /v1/admin/backtests/{id}.');
export const backtestListSchema = z
  .object({ backtests: z.array(z.object(backtestSummaryFields)) })
  .describe('The latest 100 backtests, newest first.');
export const backtestSchema = backtestAnswerSchema
  .extend({
    candidateRuleSet: ruleSetSchema.describe(
      'The candidate as validated (an overlay merged over the rule set in force): what adopting it sends.',
    ),
  })
  .describe('The backtest and its comparison (partial while it runs): tiers, moves, liability, samples.');
