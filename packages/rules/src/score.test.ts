import type { Category, Source } from '@taobi/contracts';
import fc from 'fast-check';
import { DEFAULT_RULE_SET } from './rule-set';
import { bucketPoints, emptyBreakdown, orderContribution, sameBreakdown, scoreFromBuckets } from './score';
import { createMemoryLedger, foldScores, type ScoreEvent } from './score-fold';
import { categoryNames, type ScoreRules, sourceIds } from './score-rules';

const rules = DEFAULT_RULE_SET.score;
const WINDOW_FROM = '2025-12';

/** The shipped rules plus a fifth source no code names: sources are data. */
const withCinema: ScoreRules = {
  ...rules,
  sources: {
    ...rules.sources,
    cinema: {
      channels: ['maoyan'],
      categories: { screening: { fenPerPoint: 2_000, orderCap: 15 } },
      monthlyCap: 30,
      frequency: { pointsPerOrder: 1, minNetAmount: 3_000, monthlyCap: 4 },
    },
  },
};

describe('the score rules', () => {
  it('when the shipped rules are read, then the sources are the four business lines, in the order the data lists them', () => {
    expect(sourceIds(rules)).toEqual(['ecommerce', 'food', 'travel', 'mobility']);
  });

  it("when the categories are asked for, then every source's are listed once, a further source's included", () => {
    const shipped = categoryNames(rules);
    expect(shipped).toEqual([...new Set(shipped)].sort());
    expect(shipped).toEqual(
      expect.arrayContaining(['physical', 'virtual', 'meal', 'flight', 'hotel', 'ride']),
    );
    expect(categoryNames(withCinema)).toEqual(
      [...shipped, ...Object.keys(withCinema.sources.cinema?.categories ?? {})].sort(),
    );
  });

  it('when physical goods, virtual goods and flights cost the same, then physical goods earn the most', () => {
    const points = (source: Source, category: Category) =>
      orderContribution(rules, { source, category, amount: 100_000, refunded: 0 }).points;
    expect(points('ecommerce', 'physical')).toBe(25);
    expect(points('ecommerce', 'virtual')).toBe(10);
    expect(points('travel', 'flight')).toBe(8);
    expect(points('ecommerce', 'physical')).toBeGreaterThan(points('ecommerce', 'virtual'));
    expect(points('ecommerce', 'physical')).toBeGreaterThan(points('travel', 'ticket'));
  });

  it('when an order is large, then its points stop at the order cap', () => {
    const order = { source: 'ecommerce' as const, category: 'physical' as const, refunded: 0 };
    expect(orderContribution(rules, { ...order, amount: 12_800 })).toEqual({ points: 3, qualifies: true });
    expect(orderContribution(rules, { ...order, amount: 100_000_000 }).points).toBe(100);
  });

  it('when an order is refunded in full or below the minimum, then it loses its frequency point too', () => {
    const order = { source: 'food' as const, category: 'meal' as const, amount: 3_500 };
    expect(orderContribution(rules, { ...order, refunded: 0 }).qualifies).toBe(true);
    expect(orderContribution(rules, { ...order, refunded: 2_500 }).qualifies).toBe(false);
    expect(orderContribution(rules, { ...order, refunded: 9_999 })).toEqual({ points: 0, qualifies: false });
  });

  it('when a month has many orders, then spending and frequency points stop at their monthly caps', () => {
    expect(bucketPoints(rules, 'food', { orderPoints: 500, qualifyingOrders: 100 })).toEqual({
      amountPoints: 60,
      frequencyPoints: 30,
      points: 90,
    });
    expect(bucketPoints(rules, 'travel', { orderPoints: 10, qualifyingOrders: 3 }).points).toBe(16);
  });

  it('when buckets fall before the window start, then they do not count', () => {
    const { score, breakdown } = scoreFromBuckets(
      rules,
      [
        { month: '2025-11', source: 'food', points: 40 },
        { month: '2025-12', source: 'food', points: 10 },
        { month: '2026-03', source: 'travel', points: 7 },
      ],
      WINDOW_FROM,
    );
    expect(breakdown).toEqual({ base: 300, ecommerce: 0, food: 10, travel: 7, mobility: 0 });
    expect(score).toBe(317);
  });

  it('when the rules have a fifth source, then its orders score by its numbers under its own key, the four of v1 still present', () => {
    const order = { source: 'cinema', category: 'screening', refunded: 0 };
    expect(orderContribution(withCinema, { ...order, amount: 9_000 })).toEqual({
      points: 4,
      qualifies: true,
    });
    expect(bucketPoints(withCinema, 'cinema', { orderPoints: 50, qualifyingOrders: 9 }).points).toBe(34);
    expect(emptyBreakdown(withCinema)).toEqual({
      base: 300,
      ecommerce: 0,
      food: 0,
      travel: 0,
      mobility: 0,
      cinema: 0,
    });
    const { score, breakdown } = scoreFromBuckets(
      withCinema,
      [{ month: '2026-01', source: 'cinema', points: 12 }],
      WINDOW_FROM,
    );
    expect(breakdown).toEqual({ base: 300, ecommerce: 0, food: 0, travel: 0, mobility: 0, cinema: 12 });
    expect(score).toBe(312);
  });

  it('when an order names a source or category the rules do not have, then it is refused, not scored as 0', () => {
    expect(() =>
      orderContribution(rules, { source: 'cinema', category: 'screening', amount: 1, refunded: 0 }),
    ).toThrow(RangeError);
    expect(() =>
      orderContribution(rules, { source: 'food', category: 'flight', amount: 1, refunded: 0 }),
    ).toThrow(/food\/flight/);
  });

  it('when two breakdowns differ only by a source one of them lacks, then a 0 there is the same and a point is not', () => {
    const four = emptyBreakdown(rules);
    expect(sameBreakdown(four, { ...four, cinema: 0 })).toBe(true);
    expect(sameBreakdown(four, { ...four, cinema: 1 })).toBe(false);
  });
});

// ---- property tests over random event histories -------------------------------------------------

/** The properties hold over five sources, the fifth one only data. */
const fifthSourceRules = withCinema;
const SOURCES: Source[] = sourceIds(fifthSourceRules);
const MONTH_STARTS = [
  '2025-11-15T04:00:00Z',
  '2025-12-31T17:00:00Z',
  '2026-02-10T04:00:00Z',
  '2026-10-01T00:00:00Z',
];

/** An order and its refunds, identified so that a replay of the same event is byte-identical. */
const orderArb = fc
  .record({
    member: fc.integer({ min: 1, max: 3 }),
    order: fc.integer({ min: 1, max: 12 }),
    source: fc.constantFrom(...SOURCES),
    categoryIndex: fc.nat(),
    amount: fc.integer({ min: 1, max: 2_000_000 }),
    when: fc.constantFrom(...MONTH_STARTS),
    completed: fc.boolean(),
    refunds: fc.array(fc.integer({ min: 1, max: 2_000_000 }), { maxLength: 3 }),
  })
  .map((o): ScoreEvent[] => {
    const categories = Object.keys(fifthSourceRules.sources[o.source]?.categories ?? {});
    const category = categories[o.categoryIndex % categories.length] as Category;
    const base = { source: o.source, memberId: `m-${o.member}`, orderId: `o-${o.order}`, occurredAt: o.when };
    const events: ScoreEvent[] = o.refunds.map((amount, i) => ({
      ...base,
      eventId: `${o.source}/refunded/o-${o.order}-r${i}`,
      kind: 'refunded',
      refundId: `o-${o.order}-r${i}`,
      amount,
    }));
    if (o.completed)
      events.push({
        ...base,
        eventId: `${o.source}/completed/o-${o.order}`,
        kind: 'completed',
        amount: o.amount,
        category,
      });
    return events;
  });

/** Distinct orders (one per source + orderId) flattened into events. */
const historyArb = fc
  .uniqueArray(orderArb, {
    selector: (events) => events[0] && `${events[0].source}/${events[0].orderId}`,
    maxLength: 25,
  })
  .map((orders) => orders.flat());

function scoresOf(events: readonly ScoreEvent[]): Record<string, number> {
  return Object.fromEntries(
    [...foldScores(fifthSourceRules, events, WINDOW_FROM)].map(([id, s]) => [id, s.score]),
  );
}

function chunked<T>(items: readonly T[], sizes: readonly number[]): T[][] {
  const chunks: T[][] = [];
  let at = 0;
  for (let i = 0; at < items.length; i += 1) {
    const size = Math.max(1, sizes[i % Math.max(1, sizes.length)] ?? 1);
    chunks.push(items.slice(at, at + size));
    at += size;
  }
  return chunks;
}

describe('the score fold (properties)', () => {
  it('when any history is folded, then no score is below the base', () => {
    fc.assert(
      fc.property(historyArb, (events) => {
        for (const { score, breakdown } of foldScores(fifthSourceRules, events, WINDOW_FROM).values()) {
          expect(score).toBeGreaterThanOrEqual(fifthSourceRules.baseScore);
          expect(breakdown.base).toBe(fifthSourceRules.baseScore);
        }
      }),
    );
  });

  it('when a refund is added to any history, then no score rises', () => {
    fc.assert(
      fc.property(historyArb, fc.nat(), fc.integer({ min: 1, max: 500_000 }), (events, pick, amount) => {
        const orders = events.filter((e) => e.kind === 'completed');
        fc.pre(orders.length > 0);
        const order = orders[pick % orders.length] as ScoreEvent;
        const refund: ScoreEvent = {
          ...order,
          kind: 'refunded',
          eventId: `extra-refund-${order.orderId}`,
          refundId: `extra-${order.orderId}`,
          amount,
          category: undefined,
        };
        const before = scoresOf(events);
        const after = scoresOf([...events, refund]);
        for (const [member, score] of Object.entries(after))
          expect(score).toBeLessThanOrEqual(before[member] ?? 0);
      }),
    );
  });

  it('when the same events arrive in any order and any batches, then the incremental fold equals the reference', () => {
    fc.assert(
      fc.property(
        historyArb.chain((events) =>
          fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length })),
        ),
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 }),
        ([events, shuffled], sizes) => {
          const ledger = createMemoryLedger(fifthSourceRules, WINDOW_FROM);
          for (const batch of chunked(shuffled, sizes)) ledger.apply(batch);
          const reference = foldScores(fifthSourceRules, events, WINDOW_FROM);
          for (const [member, expected] of reference) {
            expect(ledger.score(member).breakdown).toEqual(expected.breakdown);
          }
        },
      ),
    );
  });

  it('when the same events are replayed (duplicates, redelivered batches), then nothing changes', () => {
    fc.assert(
      fc.property(
        historyArb,
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 }),
        (events, sizes) => {
          const ledger = createMemoryLedger(fifthSourceRules, WINDOW_FROM);
          for (const batch of chunked(events, sizes)) ledger.apply([...batch, ...batch]);
          const settled = Object.fromEntries(ledger.members().map((m) => [m, ledger.score(m)]));
          for (const batch of chunked(events, [...sizes].reverse())) {
            const outcomes = ledger.apply(batch);
            expect(outcomes.filter((o) => o.changed)).toEqual([]);
          }
          for (const member of ledger.members()) expect(ledger.score(member)).toEqual(settled[member]);
        },
      ),
    );
  });

  it('when a score changes, then its version rises by exactly one per changing batch', () => {
    fc.assert(
      fc.property(historyArb, fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1 }), (events, sizes) => {
        const ledger = createMemoryLedger(fifthSourceRules, WINDOW_FROM);
        const changes: Record<string, number> = {};
        for (const batch of chunked(events, sizes)) {
          for (const outcome of ledger.apply(batch)) {
            if (!outcome.changed) continue;
            changes[outcome.memberId] = (changes[outcome.memberId] ?? 0) + 1;
            expect(outcome.version).toBe(changes[outcome.memberId]);
            expect(outcome.score).not.toBe(undefined);
          }
        }
      }),
    );
  });
});
