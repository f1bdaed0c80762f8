import { DEFAULT_RULE_SET, lastEvaluationAt, monthsBetween, shanghaiMonth } from '@taobi/rules';
import fc from 'fast-check';
import { occurredAtRange, occurredAtRanges, outsideRange } from './time-window';

const SKEW = 5 * 60_000;
const { dayOfMonth, windowMonths } = DEFAULT_RULE_SET.evaluation;

/** Still counts: its Shanghai month is within the window of the last evaluation, or later. */
function stillCounts(occurredAt: Date, now: Date): boolean {
  const lastEvaluation = lastEvaluationAt(now, dayOfMonth);
  return monthsBetween(shanghaiMonth(occurredAt), shanghaiMonth(lastEvaluation)) < windowMonths;
}

describe('occurredAtRange', () => {
  it('when on 2026-12-03 (before the evaluation on the 8th), then December 2025 still counts', () => {
    const range = occurredAtRange(new Date('2026-12-03T00:00:00Z'), SKEW, DEFAULT_RULE_SET);
    expect(range.earliest.toISOString()).toBe('2025-11-30T16:00:00.000Z');
  });

  it('when on 2026-12-08 after 00:00 Shanghai, then the window has moved on to January 2026', () => {
    const range = occurredAtRange(new Date('2026-12-07T16:00:00Z'), SKEW, DEFAULT_RULE_SET);
    expect(range.earliest.toISOString()).toBe('2025-12-31T16:00:00.000Z');
  });

  it("when the rule set's evaluation day is another, then the window moves on that day, not the 8th", () => {
    const on15th = { evaluation: { ...DEFAULT_RULE_SET.evaluation, dayOfMonth: 15 } };
    const december10 = new Date('2026-12-10T00:00:00Z');
    expect(occurredAtRange(december10, SKEW, DEFAULT_RULE_SET).earliest.toISOString()).toBe(
      '2025-12-31T16:00:00.000Z',
    );
    expect(occurredAtRange(december10, SKEW, on15th).earliest.toISOString()).toBe('2025-11-30T16:00:00.000Z');
  });

  it('when any instant is checked, then it is accepted exactly if it still counts and is not too far ahead', () => {
    const instant = fc.date({
      min: new Date('2024-01-01T00:00:00Z'),
      max: new Date('2030-01-01T00:00:00Z'),
      noInvalidDate: true,
    });
    fc.assert(
      fc.property(instant, fc.integer({ min: -500 * 86_400_000, max: 10 * 60_000 }), (now, offset) => {
        const occurredAt = new Date(now.getTime() + offset);
        const accepted =
          outsideRange(occurredAt, occurredAtRange(now, SKEW, DEFAULT_RULE_SET), SKEW) === undefined;
        const expected = stillCounts(occurredAt, now) && offset <= SKEW;
        return accepted === expected;
      }),
      { numRuns: 2000 },
    );
  });

  it('when asked once per second (occurredAtRanges), then each answer is occurredAtRange at that instant, across the evaluation too', () => {
    const rangeAt = occurredAtRanges(SKEW, DEFAULT_RULE_SET);
    // The evaluation of 2026-12-08 00:00 Shanghai, approached and passed a millisecond at a time.
    const evaluation = Date.parse('2026-12-07T16:00:00Z');
    for (let t = evaluation - 1500; t <= evaluation + 1500; t += 1) {
      const now = new Date(t);
      expect(rangeAt(now)).toEqual(occurredAtRange(now, SKEW, DEFAULT_RULE_SET));
    }
  });
});
