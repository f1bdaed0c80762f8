import fc from 'fast-check';
import {
  addMonths,
  lastEvaluationAt,
  monthsBetween,
  nextEvaluationAt,
  shanghaiDayStart,
  shanghaiMonth,
  windowOf,
} from './calendar';

describe('Asia/Shanghai calendar', () => {
  it('when it is 23:30 UTC on Jan 31, then it is already February in Shanghai', () => {
    expect(shanghaiMonth(new Date('2026-01-31T23:30:00Z'))).toBe('2026-02');
    expect(shanghaiMonth(new Date('2026-01-31T15:59:59Z'))).toBe('2026-01');
    expect(shanghaiMonth(new Date('2026-01-31T16:00:00Z'))).toBe('2026-02');
  });

  it('when months are added across years, then the year rolls', () => {
    expect(addMonths('2026-11', 2)).toBe('2027-01');
    expect(addMonths('2026-01', -1)).toBe('2025-12');
    expect(addMonths('2026-01', -13)).toBe('2024-12');
  });

  it('when a month is moved by n, then monthsBetween gives n back', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2000, max: 2100 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: -500, max: 500 }),
        (y, m, n) => {
          const month = `${y}-${String(m).padStart(2, '0')}`;
          expect(monthsBetween(month, addMonths(month, n))).toBe(n);
        },
      ),
    );
  });

  it('when the window is 12 months, then it ends with the current month and starts 11 before', () => {
    expect(windowOf(new Date('2026-11-23T00:00:00Z'), 12)).toEqual({ from: '2025-12', to: '2026-11' });
  });

  it('when the evaluation day is the 8th, then it is 00:00 Shanghai, i.e. 16:00 UTC on the 7th', () => {
    expect(shanghaiDayStart('2026-12', 8).toISOString()).toBe('2026-12-07T16:00:00.000Z');
    expect(nextEvaluationAt(new Date('2026-11-23T00:00:00Z'), 8).toISOString()).toBe(
      '2026-12-07T16:00:00.000Z',
    );
    expect(nextEvaluationAt(new Date('2026-11-07T15:59:59Z'), 8).toISOString()).toBe(
      '2026-11-07T16:00:00.000Z',
    );
    expect(nextEvaluationAt(new Date('2026-11-07T16:00:00Z'), 8).toISOString()).toBe(
      '2026-12-07T16:00:00.000Z',
    );
    expect(lastEvaluationAt(new Date('2026-11-07T16:00:00Z'), 8).toISOString()).toBe(
      '2026-11-07T16:00:00.000Z',
    );
    expect(lastEvaluationAt(new Date('2026-11-07T15:00:00Z'), 8).toISOString()).toBe(
      '2026-10-07T16:00:00.000Z',
    );
  });

  it('when any instant is taken, then the last evaluation is at or before it and the next strictly after', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2001-01-01'), max: new Date('2099-01-01'), noInvalidDate: true }),
        (at) => {
          const last = lastEvaluationAt(at, 8);
          const next = nextEvaluationAt(at, 8);
          expect(last.getTime()).toBeLessThanOrEqual(at.getTime());
          expect(next.getTime()).toBeGreaterThan(at.getTime());
          expect(monthsBetween(shanghaiMonth(last), shanghaiMonth(next))).toBe(1);
        },
      ),
    );
  });
});

describe('months of early years', () => {
  it('when an instant is in the first millennium (an asOf of year 1), then its month still has four digits', () => {
    expect(shanghaiMonth(new Date('0001-03-01T00:00:00Z'))).toBe('0001-03');
    expect(addMonths('0001-01', -1)).toBe('0000-12');
    expect(addMonths('0999-12', 1)).toBe('1000-01');
  });
});
