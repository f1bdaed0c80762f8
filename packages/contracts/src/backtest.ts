import { z } from 'zod';
import { isoTimeSchema, memberIdSchema } from './common';
import { tierSchema } from './tiers';

/**
 * A backtest as scoring's `GET /v1/admin/backtests/:id` answers it (docs/design.md, "Backtests"):
 * scoring writes the report, the console and `pnpm taobi backtest` show it.
 */

const count = z.number().int().nonnegative();

/** A backtest's summary: what the list of backtests shows of each. */
export const backtestSummaryFields = {
  id: z.uuid(),
  name: z.string(),
  status: z.enum(['running', 'completed', 'failed']),
  progress: z.object({ done: count, total: count }),
  asOf: isoTimeSchema,
  createdAt: isoTimeSchema,
  completedAt: isoTimeSchema.nullable(),
  error: z.string().nullable().optional().describe('Why it failed (failed backtests only).'),
};
export const backtestSummarySchema = z.object(backtestSummaryFields);
export type BacktestSummary = z.infer<typeof backtestSummarySchema>;

/** Members per tier. */
export const tierCountsSchema = z.record(tierSchema, count);
export type TierCounts = z.infer<typeof tierCountsSchema>;

/** One side of the comparison: the rule set in force (baseline) or the candidate. */
export const backtestSideSchema = z.object({
  ruleVersion: z.string(),
  catalogueVersion: z.string(),
  /** The last monthly evaluation applied (the rule set's day at or before the horizon). */
  evaluationAt: isoTimeSchema,
  tiers: tierCountsSchema,
  vip88Eligible: count,
  /** Holders per benefit id. */
  benefits: z.record(z.string(), count),
});
export type BacktestSide = z.infer<typeof backtestSideSchema>;

export const liabilityLineSchema = z.object({
  before: z.number(),
  after: z.number(),
  /** Fen per grant, when both catalogues cost the benefit (`benefitUnitCost`). */
  unitCost: z.number().optional(),
  /** `fen` (holders × unit cost) when costed, else `grants` (holders). */
  unit: z.enum(['fen', 'grants']),
});
export type LiabilityLine = z.infer<typeof liabilityLineSchema>;

const standingSchema = z.object({ score: z.number(), tier: tierSchema });
export type MemberStanding = z.infer<typeof standingSchema>;

/** A member whose tier moves: its standing under each rule set. */
export const backtestSampleSchema = z.object({
  memberId: memberIdSchema,
  before: standingSchema,
  after: standingSchema,
});
export type BacktestSample = z.infer<typeof backtestSampleSchema>;

/** Members moving up and down, and how many made each move (`GOLD->SILVER`). */
export const backtestMovesSchema = z.object({ up: count, down: count, byPair: z.record(z.string(), count) });

/** The comparison. */
export const backtestReportSchema = z.object({
  baseline: backtestSideSchema,
  candidate: backtestSideSchema,
  moves: backtestMovesSchema,
  /** By benefit id. */
  liability: z.record(z.string(), liabilityLineSchema),
  samples: z.array(backtestSampleSchema),
});
export type BacktestReport = z.infer<typeof backtestReportSchema>;

/** One backtest: its summary and the comparison (partial while it runs), and the candidate as validated. */
export const backtestAnswerSchema = backtestSummarySchema.extend({
  ...backtestReportSchema.partial().shape,
  candidateRuleSet: z.record(z.string(), z.unknown()).optional(),
});
export type BacktestAnswer = z.infer<typeof backtestAnswerSchema>;
