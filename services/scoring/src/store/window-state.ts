import type { PoolClient } from '@taobi/platform';
import { evaluationDueAt, type Month, nextEvaluation, type RuleSet, windowStartAfter } from '@taobi/rules';
import type { Queryable } from './sql';

/** Where the rolling window stands, from the evaluations that have run (or started). */
export interface WindowState {
  /** The latest evaluation that has started, or null before the first one. */
  latestEvaluationAt: Date | null;
  /** The window start a member first seen now gets. */
  windowFrom: Month;
  /** The next evaluation to forecast against, and the window start it will set. */
  nextEvaluationAt: Date;
  nextWindowFrom: Month;
}

/** The latest evaluation (the newest row of `scoring.evaluations`), as SQL answering at most one row. */
export const LATEST_EVALUATION_SQL =
  'SELECT evaluation_at, window_from FROM scoring.evaluations ORDER BY evaluation_at DESC LIMIT 1';

/**
 * The window start a member first seen now gets before any evaluation has run here: the one the
 * last due evaluation would set.
 */
export function windowFromBeforeEvaluations(now: Date, rules: RuleSet): Month {
  return windowStartAfter(evaluationDueAt(now, rules.evaluation), rules.evaluation);
}

/** The window state from the latest evaluation (undefined: none has run). */
export function windowStateOf(
  latest: { evaluation_at: Date; window_from: string } | undefined,
  now: Date,
  rules: RuleSet,
): WindowState {
  const next = nextEvaluation(now, latest?.evaluation_at ?? null, rules.evaluation);
  return {
    latestEvaluationAt: latest?.evaluation_at ?? null,
    windowFrom: latest?.window_from ?? windowFromBeforeEvaluations(now, rules),
    nextEvaluationAt: next,
    nextWindowFrom: windowStartAfter(next, rules.evaluation),
  };
}

export async function readWindowState(
  db: Queryable | PoolClient,
  now: Date,
  rules: RuleSet,
): Promise<WindowState> {
  const { rows } = await db.query<{ evaluation_at: Date; window_from: string }>(LATEST_EVALUATION_SQL);
  return windowStateOf(rows[0], now, rules);
}
