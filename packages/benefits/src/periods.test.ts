import fc from 'fast-check';
import { addCalendarMonths, nextPeriodStart, parsePeriod, periodOf } from './periods';

const instant = fc.date({ min: new Date('2001-01-01'), max: new Date('2099-01-01'), noInvalidDate: true });
const cadence = fc.constantFrom('daily' as const, 'weekly' as const, 'monthly' as const);

describe('benefit periods (Asia/Shanghai)', () => {
  it('when it is Sunday 16:00 UTC, then it is already Monday of the next ISO week in Shanghai', () => {
    expect(periodOf('weekly', new Date('2026-11-22T15:59:59Z')).key).toBe('2026-W47');
    const monday = periodOf('weekly', new Date('2026-11-22T16:00:00Z'));
    expect(monday.key).toBe('2026-W48');
    expect(monday.start.toISOString()).toBe('2026-11-22T16:00:00.000Z');
  });

  it('when a year starts mid-week, then the ISO week-year is the year of its Thursday', () => {
    expect(periodOf('weekly', new Date('2027-01-01T04:00:00Z')).key).toBe('2026-W53');
    expect(periodOf('weekly', new Date('2025-12-30T04:00:00Z')).key).toBe('2026-W01');
    expect(parsePeriod('2025-W53')).toBeUndefined();
    expect(parsePeriod('2026-W53')?.start.toISOString()).toBe('2026-12-27T16:00:00.000Z');
  });

  it('when a daily period is taken, then it is the Shanghai calendar day, keyed by its date', () => {
    const day = periodOf('daily', new Date('2026-11-22T16:00:00Z'));
    expect(day).toEqual({
      cadence: 'daily',
      key: '2026-11-23',
      start: new Date('2026-11-22T16:00:00Z'),
      end: new Date('2026-11-23T16:00:00Z'),
    });
    expect(periodOf('daily', new Date('2026-11-22T15:59:59Z')).key).toBe('2026-11-22');
    expect(parsePeriod('2026-11-23')).toEqual(day);
  });

  it('when a monthly period is taken, then it runs from the 1st 00:00 Shanghai to the next 1st', () => {
    const period = periodOf('monthly', new Date('2026-11-30T17:00:00Z'));
    expect(period.key).toBe('2026-12');
    expect(period.start.toISOString()).toBe('2026-11-30T16:00:00.000Z');
    expect(period.end.toISOString()).toBe('2026-12-31T16:00:00.000Z');
  });

  it('when any instant is taken, then it lies in its period, whose key parses back to the same period', () => {
    fc.assert(
      fc.property(cadence, instant, (c, at) => {
        const period = periodOf(c, at);
        expect(period.start.getTime()).toBeLessThanOrEqual(at.getTime());
        expect(period.end.getTime()).toBeGreaterThan(at.getTime());
        expect(parsePeriod(period.key)).toEqual(period);
        expect(periodOf(c, period.end).start).toEqual(period.end);
        expect(periodOf(c, new Date(period.start.getTime() - 1)).end).toEqual(period.start);
        expect(nextPeriodStart(c, at)).toEqual(period.end);
      }),
    );
  });

  it.each(['2026-13', '2026-W00', '2026-W54', '26-11', 'once', '2026-w47', '2026-02-30', '2026-13-01'])(
    'when %p is given, then it is not a period',
    (key) => {
      expect(parsePeriod(key)).toBeUndefined();
    },
  );

  it('when a 12-month term starts on Feb 29 or Jan 31, then its end is clamped to the month', () => {
    expect(addCalendarMonths(new Date('2028-02-29T02:00:00Z'), 12).toISOString()).toBe(
      '2029-02-28T02:00:00.000Z',
    );
    expect(addCalendarMonths(new Date('2027-01-31T01:00:00Z'), 1).toISOString()).toBe(
      '2027-02-28T01:00:00.000Z',
    );
    expect(addCalendarMonths(new Date('2026-11-20T02:00:00Z'), 12).toISOString()).toBe(
      '2027-11-20T02:00:00.000Z',
    );
  });

  it('when months are added, then the end is later and at most that many months plus a day away', () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: 1, max: 36 }), (at, months) => {
        const end = addCalendarMonths(at, months);
        expect(end.getTime()).toBeGreaterThan(at.getTime());
        expect(end.getTime() - at.getTime()).toBeLessThanOrEqual((months * 31 + 1) * 24 * 3600_000);
      }),
    );
  });
});
