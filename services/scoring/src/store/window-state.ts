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

export async function readWindowState(
  db: Queryable | PoolClient,
  now: Date,
  rules: RuleSet,
): Promise<WindowState> {
  const { rows } = await db.query<{ evaluation_at: Date; window_from: string }>(
    'SELECT evaluation_at, window_from FROM scoring.evaluations ORDER BY evaluation_at DESC LIMIT 1',
  );
  const latest = rows[0];
  // Before any evaluation has run here, the window is the one the last due evaluation would set.
  const windowFrom =
    latest?.window_from ?? windowStartAfter(evaluationDueAt(now, rules.evaluation), rules.evaluation);
  const next = nextEvaluation(now, latest?.evaluation_at ?? null, rules.evaluation);
  return {
    latestEvaluationAt: latest?.evaluation_at ?? null,
    windowFrom,
    nextEvaluationAt: next,
    nextWindowFrom: windowStartAfter(next, rules.evaluation),
  };
}
