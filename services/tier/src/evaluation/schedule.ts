import { type Logger, type Pool, retry, scheduleRecurring } from '@taobi/platform';
import { lastEvaluationAt, nextEvaluationAt, type RuleSet } from '@taobi/rules';
import { evaluationMarks } from '../store/evaluations';
import type { Evaluator } from './evaluator';

/**
 * Runs the monthly evaluation on the rule set's day (00:00 Asia/Shanghai) and, at start, catches up:
 * first the evaluations a stop or crash left running, then the last one that was due if it never
 * ran (the service was down on the 8th). A failed catch-up (scoring's rule-set registry not yet up,
 * say) is retried after 1 s, doubling up to `retryDelayMs`: a stack started together catches up
 * within seconds, not a minute later while traffic already flows.
 */
export function startEvaluationSchedule(options: {
  evaluator: Evaluator;
  pool: Pool;
  ruleSet: RuleSet;
  logger: Logger;
  now: () => Date;
  retryDelayMs?: number;
}): { stop: () => void; caughtUp: Promise<void> } {
  const log = options.logger.child({ component: 'evaluation-schedule' });
  const day = options.ruleSet.evaluation.dayOfMonth;
  const retryDelayMs = options.retryDelayMs ?? 60_000;
  const stopping = new AbortController();

  const schedule = scheduleRecurring({
    name: 'monthly-evaluation',
    logger: options.logger,
    now: options.now,
    nextRunAt: (after) => nextEvaluationAt(after, day),
    run: (dueAt) => options.evaluator.run(dueAt, 'schedule'),
    retryDelayMs,
  });

  async function catchUp(): Promise<void> {
    await options.evaluator.resumeUnfinished();
    const due = lastEvaluationAt(options.now(), day);
    const { started } = await evaluationMarks(options.pool);
    if (started === null || Date.parse(started) < due.getTime()) {
      log.info({ asOf: due.toISOString(), lastStarted: started }, 'a due evaluation was missed; catching up');
      await options.evaluator.run(due, 'catch-up');
    }
  }

  // Resolves once caught up, or once stopped (a retry pause in progress ends at once). The first
  // retry comes after 1 s, doubling up to `retryDelayMs`.
  const caughtUp = retry(catchUp, {
    attempts: Number.POSITIVE_INFINITY,
    delayMs: Math.min(1000, retryDelayMs),
    factor: 2,
    maxDelayMs: retryDelayMs,
    signal: stopping.signal,
    onRetry: (error, _attempt, delayMs) =>
      log.error({ err: error, retryInMs: delayMs }, 'evaluation catch-up failed; will retry'),
  }).catch(() => undefined);

  return {
    caughtUp,
    stop() {
      stopping.abort();
      schedule.stop();
    },
  };
}
