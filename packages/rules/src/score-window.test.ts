import fc from 'fast-check';
import { addMonths, shanghaiMonth } from './calendar';
import { DEFAULT_RULE_SET } from './rule-set';
import {
  evaluationDueAt,
  expiryEvaluationOf,
  expiryForecast,
  nextEvaluation,
  pointsByMonth,
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

  it('when only a recent month has points, then the forecast names the evaluation a year on, not the next one', () => {
    const next = new Date('2026-12-07T16:00:00Z');
    const buckets = [
      { month: '2026-06', points: 40 },
      { month: '2026-06', points: 5 },
      { month: '2026-09', points: 7 },
      { month: '2025-11', points: 99 },
    ];
    expect(expiryForecast(buckets, '2025-12', next, evaluation)).toEqual({
      points: 45,
      evaluationAt: new Date('2027-06-07T16:00:00Z'),
    });
    expect(expiryForecast([], '2025-12', next, evaluation)).toEqual({ points: 0, evaluationAt: next });
  });

  it('when evaluations were missed, then the forecast is the next one and takes every overdue month', () => {
    const next = new Date('2027-03-07T16:00:00Z');
    const buckets = [
      { month: '2025-12', points: 10 },
      { month: '2026-02', points: 20 },
      { month: '2026-03', points: 30 },
      { month: '2026-04', points: 40 },
    ];
    expect(expiryForecast(buckets, '2025-12', next, evaluation)).toEqual({ points: 60, evaluationAt: next });
  });

  it('when any buckets are forecast, then score minus points is what the evaluation at evaluationAt leaves', () => {
    const monthArb = fc.integer({ min: 0, max: 30 }).map((n) => addMonths('2025-06', n));
    fc.assert(
      fc.property(
        fc.array(fc.record({ month: monthArb, points: fc.integer({ min: 0, max: 50 }) }), { maxLength: 20 }),
        fc.integer({ min: 0, max: 24 }),
        (buckets, ahead) => {
          const windowFrom = '2025-12';
          const next = evaluationDueAt(
            new Date(Date.parse('2026-12-07T16:00:00Z') + ahead * 31 * 86_400_000),
            evaluation,
          );
          const forecast = expiryForecast(buckets, windowFrom, next, evaluation);
          const total = (from: string) =>
            buckets.filter((b) => b.month >= from).reduce((s, b) => s + b.points, 0);
          // The evaluation at evaluationAt leaves exactly score - points ...
          expect(total(windowStartAfter(forecast.evaluationAt, evaluation))).toBe(
            total(windowFrom) - forecast.points,
          );
          // ... and no evaluation from next until then takes anything.
          if (forecast.evaluationAt > next) {
            const before = evaluationDueAt(new Date(forecast.evaluationAt.getTime() - 1), evaluation);
            expect(total(windowStartAfter(before, evaluation))).toBe(total(windowFrom));
          }
        },
      ),
    );
  });
});

describe('points per month', () => {
  it('when buckets of several sources share a month, then they add up, months before the window and without points are left out, oldest first', () => {
    expect(
      pointsByMonth(
        [
          { month: '2026-05', points: 10 },
          { month: '2026-03', points: 4 },
          { month: '2026-05', points: 6 },
          { month: '2026-01', points: 9 },
          { month: '2026-04', points: 0 },
        ],
        '2026-02',
      ),
    ).toEqual([
      { month: '2026-03', points: 4 },
      { month: '2026-05', points: 16 },
    ]);
  });
});
