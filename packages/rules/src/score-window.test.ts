import fc from 'fast-check';
import { addMonths, shanghaiMonth } from './calendar';
import { DEFAULT_RULE_SET } from './rule-set';
import {
  evaluationDueAt,
  expiryEvaluationOf,
  nextEvaluation,
  reportedWindow,
  windowStartAfter,
} from './score-window';

const evaluation = DEFAULT_RULE_SET.evaluation;

describe('the rolling window', () => {
  it('when the evaluation of 2026-12-08 runs, then 2025-12 and older expire and 2026-01 stays', () => {
    const due = evaluationDueAt(new Date('2026-12-20T00:00:00Z'), evaluation);
    expect(due.toISOString()).toBe('2026-12-07T16:00:00.000Z');
    expect(windowStartAfter(due, evaluation)).toBe('2026-01');
  });

  it('when an evaluation is asked for on the 5th, then it runs the one due on the 8th of the month before', () => {
    const due = evaluationDueAt(new Date('2026-12-05T00:00:00+08:00'), evaluation);
    expect(due.toISOString()).toBe('2026-11-07T16:00:00.000Z');
    expect(windowStartAfter(due, evaluation)).toBe('2025-12');
  });

  it('when it is the 1st to the 7th, then the score covers 13 months; from the 8th, 12', () => {
    const from = windowStartAfter(new Date('2026-11-07T16:00:00Z'), evaluation);
    expect(reportedWindow(from, new Date('2026-11-20T00:00:00Z'), evaluation)).toEqual({
      from: '2025-12',
      to: '2026-11',
    });
    expect(reportedWindow(from, new Date('2026-12-03T00:00:00Z'), evaluation)).toEqual({
      from: '2025-12',
      to: '2026-12',
    });
  });

  it('when an evaluation ran ahead of the clock, then the window still spans 12 months and the next one is after it', () => {
    const ahead = new Date('2027-12-07T16:00:00Z');
    const now = new Date('2026-11-23T00:00:00Z');
    expect(reportedWindow(windowStartAfter(ahead, evaluation), now, evaluation)).toEqual({
      from: '2027-01',
      to: '2027-12',
    });
    expect(nextEvaluation(now, ahead, evaluation).toISOString()).toBe('2028-01-07T16:00:00.000Z');
    expect(nextEvaluation(now, null, evaluation).toISOString()).toBe('2026-12-07T16:00:00.000Z');
  });

  it('when a month is any month, then it counts until the evaluation that expires it and not after', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2000, max: 2090 }), fc.integer({ min: 1, max: 12 }), (year, m) => {
        const month = `${year}-${String(m).padStart(2, '0')}`;
        const expiry = expiryEvaluationOf(month, evaluation);
        expect(windowStartAfter(expiry, evaluation) > month).toBe(true);
        const before = evaluationDueAt(new Date(expiry.getTime() - 1), evaluation);
        expect(windowStartAfter(before, evaluation) <= month).toBe(true);
        expect(shanghaiMonth(expiry)).toBe(addMonths(month, 12));
      }),
    );
  });
});
