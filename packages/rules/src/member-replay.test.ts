import type { Category, Source } from '@taobi/contracts';
import fc from 'fast-check';
import { lastEvaluationAt } from './calendar';
import { type ReplayEvent, replayMember, replayMemberUnderTiers } from './member-replay';
import { DEFAULT_RULE_SET, type RuleSet } from './rule-set';
import { foldScores, type ScoreEvent } from './score-fold';
import { windowStartAfter } from './score-window';
import { tierForScore } from './tiers';

const rules = DEFAULT_RULE_SET;
const at = (iso: string) => Date.parse(iso);
let sequence = 0;

function order(iso: string, amount: number, source: Source = 'ecommerce', category: Category = 'physical') {
  sequence += 1;
  return { kind: 'completed', source, orderId: `o-${sequence}`, category, amount, at: at(iso) } as const;
}
const refund = (of: ReplayEvent, amount: number, iso?: string): ReplayEvent => ({
  kind: 'refunded',
  source: of.source,
  orderId: of.orderId,
  amount,
  at: iso ? at(iso) : of.at,
});
/** Three 4,000 CNY physical orders: 300 points (the monthly cap) and 3 frequency points. */
const aMonthOfShopping = (month: string) =>
  [10, 11, 12].map((day) => order(`${month}-${day}T12:00:00+08:00`, 400_000));

/** The reference: the ledger folded from scratch, counting the window the last evaluation set. */
function reference(events: readonly ReplayEvent[], horizon: Date, ruleSet: RuleSet = rules) {
  const scoreEvents: ScoreEvent[] = events.map((e, i) => ({
    eventId: `e-${i}`,
    kind: e.kind,
    source: e.source,
    memberId: 'm',
    orderId: e.orderId,
    refundId: e.kind === 'refunded' ? `r-${i}` : undefined,
    amount: e.amount,
    category: e.category,
    occurredAt: new Date(e.at).toISOString(),
  }));
  const windowFrom = windowStartAfter(
    lastEvaluationAt(horizon, ruleSet.evaluation.dayOfMonth),
    ruleSet.evaluation,
  );
  return foldScores(ruleSet.score, scoreEvents, windowFrom).get('m')?.score ?? ruleSet.score.baseScore;
}

describe('replaying one member in business time', () => {
  it('when a member has no events, then they are Bronze at the base score', () => {
    expect(replayMember(rules, 'm', [], new Date())).toMatchObject({ score: 300, tier: 'BRONZE' });
  });

  it('when months leave the window at the evaluations, then the score drops with them and the tier follows at each evaluation', () => {
    const events = [
      ...aMonthOfShopping('2025-11'),
      ...aMonthOfShopping('2025-12'),
      ...aMonthOfShopping('2026-06'),
    ];
    // 300 + 3 × 303: Platinum from June.
    expect(replayMember(rules, 'm', events, new Date('2026-11-07T00:00:00+08:00'))).toMatchObject({
      score: 1209,
      tier: 'PLATINUM',
    });
    // 2026-11-08 expires 2025-11; 2026-12-08 expires 2025-12.
    expect(replayMember(rules, 'm', events, new Date('2026-11-08T00:00:00+08:00'))).toMatchObject({
      score: 906,
      tier: 'GOLD',
      lastEvaluationAt: new Date('2026-11-08T00:00:00+08:00'),
    });
    expect(replayMember(rules, 'm', events, new Date('2026-12-20T00:00:00+08:00'))).toMatchObject({
      score: 603,
      tier: 'SILVER',
    });
  });

  it('when the rule set moves down one tier at a time, then a member falls one tier per evaluation', () => {
    const oneAtATime: RuleSet = {
      ...rules,
      tiers: {
        downgrade: 'one-tier-at-a-time',
        thresholds: { BRONZE: 0, SILVER: 400, GOLD: 700, PLATINUM: 800, DIAMOND: 1100, BLACK_DIAMOND: 5000 },
      },
    };
    // 2025-11: 303 from shopping and 210 from five hotel nights; 2026-06: 303 more. Peak 1116.
    const hotels = [1, 2, 3, 4, 5].map((day) =>
      order(`2025-11-0${day}T12:00:00+08:00`, 480_000, 'travel', 'hotel'),
    );
    const events = [...aMonthOfShopping('2025-11'), ...hotels, ...aMonthOfShopping('2026-06')];
    const tierAt = (iso: string, ruleSet: RuleSet) => replayMember(ruleSet, 'm', events, new Date(iso)).tier;
    expect(tierAt('2026-11-01T00:00:00+08:00', oneAtATime)).toBe('DIAMOND');
    // 2026-11-08 leaves 603 (Silver's): one tier down per evaluation, or straight to Silver.
    expect(tierAt('2026-11-08T00:00:00+08:00', oneAtATime)).toBe('PLATINUM');
    expect(tierAt('2026-12-08T00:00:00+08:00', oneAtATime)).toBe('GOLD');
    expect(tierAt('2027-01-08T00:00:00+08:00', oneAtATime)).toBe('SILVER');
    const straight = {
      ...oneAtATime,
      tiers: { ...oneAtATime.tiers, downgrade: 'to-supported-tier' as const },
    };
    expect(tierAt('2026-11-08T00:00:00+08:00', straight)).toBe('SILVER');
  });

  it('when a refund takes the score below the tier after the last evaluation, then the tier stays (pending) until the next one', () => {
    const big = order('2026-11-20T12:00:00+08:00', 400_000);
    const events = [...aMonthOfShopping('2026-09'), ...aMonthOfShopping('2026-10'), big];
    const withRefund = [...events, refund(big, 400_000, '2026-11-25T12:00:00+08:00')];
    // 300 + 606 + 101 = 1007: Platinum on 20 November; the refund leaves 906.
    expect(replayMember(rules, 'm', withRefund, new Date('2026-11-30T00:00:00+08:00'))).toMatchObject({
      score: 906,
      tier: 'PLATINUM',
    });
    expect(replayMember(rules, 'm', withRefund, new Date('2026-12-08T00:00:00+08:00'))).toMatchObject({
      score: 906,
      tier: 'GOLD',
    });
  });

  it('when a refund soon after an upgrade takes the score below the tier, then the clawback takes the tier back at once; a later one waits for the evaluation', () => {
    const big = order('2026-11-20T12:00:00+08:00', 400_000);
    const history = [...aMonthOfShopping('2026-09'), ...aMonthOfShopping('2026-10'), big];
    const horizon = new Date('2026-12-30T00:00:00+08:00');
    const soon = [...history, refund(big, 400_000, '2026-11-25T12:00:00+08:00')];
    const late = [...history, refund(big, 400_000, '2026-12-29T12:00:00+08:00')];
    // 1007 on 20 November (Platinum), 906 after the refund; the evaluation of 8 December comes between for `late`.
    expect(
      replayMember(rules, 'm', soon, new Date('2026-11-30T00:00:00+08:00'), { clawbackDays: 30 }).tier,
    ).toBe('GOLD');
    expect(replayMember(rules, 'm', soon, new Date('2026-11-30T00:00:00+08:00')).tier).toBe('PLATINUM');
    expect(replayMember(rules, 'm', late, horizon, { clawbackDays: 30 }).tier).toBe('PLATINUM');
  });

  it('when an order and its refund happen at the same instant, then they are one score change and never upgrade', () => {
    const big = order('2026-11-20T12:00:00+08:00', 400_000);
    const events = [
      ...aMonthOfShopping('2026-09'),
      ...aMonthOfShopping('2026-10'),
      big,
      refund(big, 400_000),
    ];
    expect(replayMember(rules, 'm', events, new Date('2026-11-30T00:00:00+08:00'))).toMatchObject({
      score: 906,
      tier: 'GOLD',
    });
  });

  it('when a refund comes before its order, then it is held and applied when the order comes', () => {
    const late = order('2026-10-20T12:00:00+08:00', 400_000);
    const events = [refund(late, 300_000, '2026-10-01T12:00:00+08:00'), late];
    // 100,000 fen net: 25 points and the frequency point.
    expect(replayMember(rules, 'm', events, new Date('2026-11-30T00:00:00+08:00')).score).toBe(326);
  });

  it('when the rule set no longer scores a source, then its orders and their refunds are ignored', () => {
    const { travel: _dropped, ...sources } = rules.score.sources;
    const noTravel: RuleSet = { ...rules, score: { ...rules.score, sources } };
    const flight = order('2026-10-20T12:00:00+08:00', 480_000, 'travel', 'flight');
    const events = [...aMonthOfShopping('2026-10'), flight, refund(flight, 1_000)];
    expect(replayMember(noTravel, 'm', events, new Date('2026-11-30T00:00:00+08:00')).score).toBe(603);
    expect(replayMember(rules, 'm', events, new Date('2026-11-30T00:00:00+08:00')).score).toBeGreaterThan(
      603,
    );
  });

  const HORIZON = new Date('2026-12-08T00:00:00+08:00');
  const eventsArb = fc
    .array(
      fc.record({
        monthsBack: fc.integer({ min: 0, max: 20 }),
        day: fc.integer({ min: 1, max: 28 }),
        source: fc.constantFrom<[Source, Category]>(
          ['ecommerce', 'physical'],
          ['food', 'meal'],
          ['travel', 'hotel'],
          ['mobility', 'ride'],
        ),
        amount: fc.integer({ min: 100, max: 900_000 }),
        refund: fc.option(fc.record({ share: fc.double({ min: 0.01, max: 1.2 }), daysLater: fc.nat(40) })),
      }),
      { maxLength: 40 },
    )
    .map((specs) =>
      specs.flatMap((spec) => {
        const when = new Date(Date.UTC(2026, 10 - spec.monthsBack, spec.day, 4));
        const placed = order(when.toISOString(), spec.amount, spec.source[0], spec.source[1]);
        if (!spec.refund) return [placed];
        // Before the evaluation at the horizon: what happens after it is the next test's subject.
        const refundAt = Math.min(when.getTime() + spec.refund.daysLater * 86_400_000, HORIZON.getTime() - 1);
        return [
          placed,
          refund(
            placed,
            Math.max(1, Math.round(spec.amount * spec.refund.share)),
            new Date(refundAt).toISOString(),
          ),
        ];
      }),
    );

  it('when any history is replayed, then the score is the ledger folded over the window of the last evaluation, and the tier the one it supports', () => {
    fc.assert(
      fc.property(eventsArb, (events) => {
        const horizon = HORIZON;
        const replayed = replayMember(rules, 'm', events, horizon);
        expect(replayed.score).toBe(reference(events, horizon));
        // Everything happened before the evaluation at the horizon: it leaves the supported tier.
        expect(replayed.tier).toBe(tierForScore(replayed.score, rules.tiers.thresholds));
      }),
    );
  });

  it('when the events come in another order, then the outcome is the same', () => {
    fc.assert(
      fc.property(eventsArb, fc.integer(), (events, seed) => {
        const shuffled = [...events].sort((a, b) => ((a.at * 31 + seed) % 97) - ((b.at * 31 + seed) % 97));
        const horizon = new Date('2026-11-30T00:00:00+08:00');
        expect(replayMember(rules, 'm', shuffled, horizon)).toEqual(
          replayMember(rules, 'm', events, horizon),
        );
      }),
    );
  });

  it('when several tier policies read one score history, then each gives the tier its own replay gives', () => {
    const raised: RuleSet = {
      ...rules,
      tiers: { ...rules.tiers, thresholds: { ...rules.tiers.thresholds, GOLD: 800, PLATINUM: 1200 } },
    };
    const stepwise: RuleSet = { ...rules, tiers: { ...rules.tiers, downgrade: 'one-tier-at-a-time' } };
    fc.assert(
      fc.property(
        eventsArb,
        fc.date({ min: new Date('2026-06-01'), max: new Date('2027-03-01'), noInvalidDate: true }),
        (events, horizon) => {
          const together = replayMemberUnderTiers(
            rules,
            [rules.tiers, raised.tiers, stepwise.tiers],
            'm',
            events,
            horizon,
          );
          expect(together.tiers).toEqual(
            [rules, raised, stepwise].map((ruleSet) => replayMember(ruleSet, 'm', events, horizon).tier),
          );
          expect(together.score).toBe(replayMember(rules, 'm', events, horizon).score);
        },
      ),
    );
  });
});
