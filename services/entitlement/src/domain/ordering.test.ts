import fc from 'fast-check';
import { compareOrderingKeys, type OrderingKey, orderingKeyOf, stintOf } from './ordering';

const key = fc.record({
  scoreVersion: fc.integer({ min: -1, max: 1000 }),
  occurredAtMs: fc.integer({ min: 0, max: 4_000_000_000_000 }),
  eventId: fc.string({ minLength: 1, maxLength: 8 }),
});

describe('tier-changed ordering', () => {
  it('when the score version is higher, then the record is newer whatever its time', () => {
    const older = orderingKeyOf({ scoreVersion: 3, occurredAt: '2026-11-20T10:00:00Z', eventId: 'b' });
    const newer = orderingKeyOf({ scoreVersion: 4, occurredAt: '2026-11-20T09:00:00Z', eventId: 'a' });
    expect(compareOrderingKeys(newer, older)).toBeGreaterThan(0);
  });

  it('when two evaluations lower the tier on one score version, then the later one is newer', () => {
    const first = orderingKeyOf({ scoreVersion: 6, occurredAt: '2026-11-07T16:00:00Z', eventId: 'x' });
    const second = orderingKeyOf({ scoreVersion: 6, occurredAt: '2026-12-07T16:00:00Z', eventId: 'a' });
    expect(compareOrderingKeys(second, first)).toBeGreaterThan(0);
    expect(stintOf(second)).not.toBe(stintOf(first));
  });

  it('when any keys are compared, then the order is total and antisymmetric, and equal keys are the same record', () => {
    fc.assert(
      fc.property(key, key, (a: OrderingKey, b: OrderingKey) => {
        expect(Math.sign(compareOrderingKeys(a, b))).toBe(-Math.sign(compareOrderingKeys(b, a)));
        if (compareOrderingKeys(a, b) === 0) expect(a).toEqual(b);
      }),
    );
  });
});
