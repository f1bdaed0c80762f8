import { SOURCE_CATALOGUE, type Source } from '@taobi/contracts';
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
 */
export type SourceCategory<S extends Source> = (typeof SOURCE_CATALOGUE)[S]['categories'][number];

export interface CategoryWeight {
  /** Fen of net spending per point (a higher number weighs the category less). */
  fenPerPoint: number;
  /** The most points one order of this category earns, however large. */
  orderCap: number;
}

export interface SourceScoreRules<S extends Source = Source> {
  categories: Record<SourceCategory<S>, CategoryWeight>;
  /** The most spending points this source earns in one calendar month. */
  monthlyCap: number;
  frequency: {
    /** Points for each qualifying order. */
    pointsPerOrder: number;
    /** An order qualifies when its net amount (fen) is at least this. */
    minNetAmount: number;
    /** The most frequency points this source earns in one calendar month. */
    monthlyCap: number;
  };
}

export interface ScoreRules {
  /** Every member's score before any spending: every shopper is a member. */
  baseScore: number;
  sources: { [S in Source]: SourceScoreRules<S> };
}

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
const categoryWeightSchema = z.object({ fenPerPoint: positiveInt, orderCap: nonNegativeInt });

function sourceRulesSchema<S extends Source>(source: S) {
  const categories = SOURCE_CATALOGUE[source].categories as readonly string[];
  return z.object({
    categories: z.object(Object.fromEntries(categories.map((c) => [c, categoryWeightSchema]))).strict(),
    monthlyCap: nonNegativeInt,
    frequency: z.object({
      pointsPerOrder: nonNegativeInt,
      minNetAmount: positiveInt,
      monthlyCap: nonNegativeInt,
    }),
  });
}

/** Validates a score rule set held as data (e.g. loaded from a file): every category of every source. */
export const scoreRulesSchema = z.object({
  baseScore: nonNegativeInt,
  sources: z.object({
    ecommerce: sourceRulesSchema('ecommerce'),
    food: sourceRulesSchema('food'),
    travel: sourceRulesSchema('travel'),
    mobility: sourceRulesSchema('mobility'),
  }),
});

/**
 * The defaults, chosen with the spending simulation in `score-simulation.ts` (README, "Scoring",
 * has the resulting spread and the reasoning). In yuan per point: physical goods 40, rides 40,
 * meals and groceries 50, hotels and trains 80, virtual goods 100, flights and tickets 120. Each
 * order also earns frequency points (2 for a trip), so frequent small orders count.
 */
export const DEFAULT_SCORE_RULES: ScoreRules = {
  baseScore: 300,
  sources: {
    ecommerce: {
      categories: {
        physical: { fenPerPoint: 4_000, orderCap: 100 },
        virtual: { fenPerPoint: 10_000, orderCap: 20 },
      },
      monthlyCap: 300,
      frequency: { pointsPerOrder: 1, minNetAmount: 1_000, monthlyCap: 20 },
    },
    food: {
      categories: {
        meal: { fenPerPoint: 5_000, orderCap: 10 },
        grocery: { fenPerPoint: 5_000, orderCap: 20 },
      },
      monthlyCap: 60,
      frequency: { pointsPerOrder: 1, minNetAmount: 1_500, monthlyCap: 30 },
    },
    travel: {
      categories: {
        flight: { fenPerPoint: 12_000, orderCap: 60 },
        hotel: { fenPerPoint: 8_000, orderCap: 60 },
        train: { fenPerPoint: 8_000, orderCap: 20 },
        ticket: { fenPerPoint: 12_000, orderCap: 10 },
      },
      monthlyCap: 200,
      frequency: { pointsPerOrder: 2, minNetAmount: 5_000, monthlyCap: 10 },
    },
    mobility: {
      categories: {
        ride: { fenPerPoint: 4_000, orderCap: 10 },
      },
      monthlyCap: 40,
      frequency: { pointsPerOrder: 1, minNetAmount: 1_000, monthlyCap: 30 },
    },
  },
};
