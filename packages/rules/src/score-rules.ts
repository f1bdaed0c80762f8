import { type Category, categorySchema, channelSchema, type Source, sourceSchema } from '@taobi/contracts';
import { z } from 'zod';

/**
 * The numbers of the Taobi Score, as data. Every point is explainable from them:
 *
 *   order points   = min(orderCap, floor(netAmount / fenPerPoint))        by the order's category
 *   bucket points  = min(monthlyCap, Σ order points)                      per (month, source)
 *                  + min(frequency.monthlyCap, pointsPerOrder × qualifying orders)
 *   score          = baseScore + Σ bucket points over the months in the window
 *
 * `netAmount` is the order's amount minus its refunds (never below 0). An order "qualifies" for
 * frequency points when its net amount is at least `frequency.minNetAmount`, so a fully refunded
 * order loses its frequency point too. Why the default numbers are what they are: README, "Scoring".
 *
 * The sources are data too: `sources` has one entry per business line, with the channels it may
 * report and its categories. Code iterates them (`sourceIds`); none is named in code.
 */
const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

const categoryWeightSchema = z.strictObject({
  /** Fen of net spending per point (a higher number weighs the category less). */
  fenPerPoint: positiveInt,
  /** The most points one order of this category earns, however large. */
  orderCap: nonNegativeInt,
});
export type CategoryWeight = z.infer<typeof categoryWeightSchema>;

/** One business line: what it may report (its catalogue entry) and what it is worth. */
export const sourceRulesSchema = z.strictObject({
  /** The platforms its orders come from; an ingest service accepts only these. */
  channels: z
    .array(channelSchema)
    .min(1)
    .refine((list) => new Set(list).size === list.length, 'must not repeat a channel'),
  /** What it sells, each with its weight; an order of another category is refused. */
  categories: z
    .record(categorySchema, categoryWeightSchema)
    .refine((categories) => Object.keys(categories).length > 0, 'must have at least one category'),
  /** The most spending points this source earns in one calendar month. */
  monthlyCap: nonNegativeInt,
  frequency: z.strictObject({
    /** Points for each qualifying order. */
    pointsPerOrder: nonNegativeInt,
    /** An order qualifies when its net amount (fen) is at least this. */
    minNetAmount: positiveInt,
    /** The most frequency points this source earns in one calendar month. */
    monthlyCap: nonNegativeInt,
  }),
});
export type SourceScoreRules = z.infer<typeof sourceRulesSchema>;

/** Validates score rules held as data (the rule set file): every source with its categories. */
export const scoreRulesSchema = z.strictObject({
  /** Every member's score before any spending: every shopper is a member. */
  baseScore: nonNegativeInt,
  sources: z
    .record(sourceSchema, sourceRulesSchema)
    .refine((sources) => Object.keys(sources).length > 0, 'must have at least one source'),
});
export type ScoreRules = z.infer<typeof scoreRulesSchema>;

/** The sources of a rule set, in the order the data lists them. */
export function sourceIds(rules: ScoreRules): Source[] {
  return Object.keys(rules.sources);
}

/**
 * Every category of every source, once each, sorted: what a product category may be named in the
 * rules' terms (a merchant offer's audience, a filter) when the source does not matter.
 */
export function categoryNames(rules: ScoreRules): Category[] {
  return [
    ...new Set(Object.values(rules.sources).flatMap((source) => Object.keys(source.categories))),
  ].sort();
}

/** A source's rules; a RangeError for a source the rules do not have. */
export function sourceRules(rules: ScoreRules, source: Source): SourceScoreRules {
  const found = Object.hasOwn(rules.sources, source) ? rules.sources[source] : undefined;
  if (!found) throw new RangeError(`no score rules for the source ${source}`);
  return found;
}
