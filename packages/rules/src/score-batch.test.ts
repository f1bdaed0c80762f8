import type { Category, Source } from '@taobi/contracts';
import fc from 'fast-check';
import { DEFAULT_RULE_SET } from './rule-set';
import { creditedDeltas, type LedgerBucket, type LedgerOrder, planOrders } from './score-batch';

const rules = DEFAULT_RULE_SET.score;

const CATEGORIES: [Source, Category][] = [
  ['ecommerce', 'physical'],
  ['ecommerce', 'virtual'],
  ['food', 'meal'],
  ['mobility', 'ride'],
  ['travel', 'flight'],
];

/** Orders of a few members and months, some refunded, some already credited. */
const order = fc
  .record({
    member: fc.integer({ min: 0, max: 3 }),
    month: fc.constantFrom('2026-10', '2026-11'),
    kind: fc.constantFrom(...CATEGORIES),
    amount: fc.integer({ min: 1, max: 200_000 }),
    refunded: fc.integer({ min: 0, max: 200_000 }),
    points: fc.integer({ min: 0, max: 50 }),
    qualifies: fc.boolean(),
  })
  .map(
    (o): LedgerOrder => ({
      source: o.kind[0],
      orderId: `o-${o.member}-${o.amount}`,
      memberId: `m-${o.member}`,
      month: o.month,
      category: o.kind[1],
      amount: o.amount,
      points: o.points,
      qualifies: o.qualifies,
      refunded: Math.min(o.refunded, o.amount),
    }),
  );

const sorted = (buckets: readonly LedgerBucket[]) =>
  [...buckets].sort((a, b) =>
    `${a.memberId}/${a.month}/${a.source}`.localeCompare(`${b.memberId}/${b.month}/${b.source}`),
  );

describe('creditedDeltas', () => {
  it('when new orders are credited and others re-credited, then the deltas are those planOrders gives for the new ones from nothing followed by the others', () => {
    fc.assert(
      fc.property(fc.array(order, { maxLength: 30 }), fc.array(order, { maxLength: 10 }), (fresh, others) => {
        const credited = planOrders(
          rules,
          fresh.map((o) => ({ ...o, points: 0, qualifies: false, refunded: 0 })),
        ).orders;
        const replanned = planOrders(rules, others);
        const expected = planOrders(rules, [
          ...credited.map((o) => ({ ...o, points: 0, qualifies: false })),
          ...others,
        ]).deltas;
        expect(sorted(creditedDeltas(credited, replanned.deltas))).toEqual(sorted(expected));
      }),
      { numRuns: 500 },
    );
  });
});
