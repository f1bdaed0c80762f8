import { lastEvaluationAt, type RuleSet, shanghaiDayStart, windowOf } from '@taobi/rules';

export interface OccurredAtRange {
  /** The oldest instant that can still count towards a score. */
  earliest: Date;
  /** The latest instant accepted: the service clock plus the allowed skew. */
  latest: Date;
}

/**
 * Which `occurredAt` values ingest accepts at `now`.
 *
 * Too old: contributions expire only at the monthly evaluation (the rule set's day, the 8th by
 * default: the same rule set scoring runs), so until then the window of the *last* evaluation
 * still counts. The earliest accepted instant is therefore the first day of that window's first
 * month (Asia/Shanghai): anything older can never count again, and everything that still counts
 * is accepted, whatever day of the month it is.
 *
 * Too new: at most `maxFutureMs` ahead of the service clock (platform clocks drift a little; an
 * order from tomorrow is a bug).
 */
export function occurredAtRange(
  now: Date,
  maxFutureMs: number,
  ruleSet: Pick<RuleSet, 'evaluation'>,
): OccurredAtRange {
  const { dayOfMonth, windowMonths } = ruleSet.evaluation;
  const window = windowOf(lastEvaluationAt(now, dayOfMonth), windowMonths);
  return {
    earliest: shanghaiDayStart(window.from, 1),
    latest: new Date(now.getTime() + maxFutureMs),
  };
}

/**
 * `occurredAtRange` for one service, as a function of `now`: the earliest bound is computed once per
 * second of the clock (it moves only at an evaluation instant, a whole second), not per request.
 */
export function occurredAtRanges(
  maxFutureMs: number,
  ruleSet: Pick<RuleSet, 'evaluation'>,
): (now: Date) => OccurredAtRange {
  let second = Number.NaN;
  let earliest = new Date(0);
  return (now) => {
    const at = Math.floor(now.getTime() / 1000);
    if (at !== second) {
      earliest = occurredAtRange(now, maxFutureMs, ruleSet).earliest;
      second = at;
    }
    return { earliest, latest: new Date(now.getTime() + maxFutureMs) };
  };
}

/** Why an instant is outside the range, or undefined when it is inside. */
export function outsideRange(
  occurredAt: Date,
  range: OccurredAtRange,
  maxFutureMs: number,
): string | undefined {
  if (occurredAt.getTime() > range.latest.getTime()) {
    return `is more than ${Math.round(maxFutureMs / 1000)} s ahead of the service clock`;
  }
  if (occurredAt.getTime() < range.earliest.getTime()) {
    return `is before the scoring window, which starts at ${range.earliest.toISOString()}`;
  }
  return undefined;
}
