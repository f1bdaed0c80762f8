import fc from 'fast-check';
import { DEFAULT_RULE_SET, type RuleSet } from './rule-set';
import { explainTierChange, forecastEvaluations, monthsExpiredAt } from './tier-outlook';
import { applyScoreUpdate, evaluateMember, type MemberTier, type TierChange, unseenMember } from './tiers';

const FEB_8 = '2027-02-07T16:00:00.000Z';
const MAR_8 = '2027-03-07T16:00:00.000Z';
const APR_8 = '2027-04-07T16:00:00.000Z';
const ONE_AT_A_TIME: RuleSet = {
  ...DEFAULT_RULE_SET,
  tiers: { ...DEFAULT_RULE_SET.tiers, downgrade: 'one-tier-at-a-time' },
};
const evaluations = (rules: RuleSet = DEFAULT_RULE_SET) => [FEB_8, MAR_8, APR_8].map((at) => ({ at, rules }));

/** A Gold member at 704: 101 points of 2026-03 (they leave on 8 March), 303 of 2026-04 (8 April). */
function gold(overrides: Partial<MemberTier> = {}): MemberTier {
  return {
    ...unseenMember('m-1', 300, '2027-01-25T04:00:00.000Z'),
    tier: 'GOLD',
    score: 704,
    scoreVersion: 2,
    expiring: { points: 101, evaluationAt: MAR_8 },
    months: [
      { month: '2026-03', points: 101 },
      { month: '2026-04', points: 303 },
    ],
    ...overrides,
  };
}

describe('the forecast of the next three evaluations', () => {
  it('when points leave in March and April, then it projects each evaluation and names the first drop', () => {
    expect(forecastEvaluations(gold(), evaluations())).toEqual({
      evaluations: [
        {
          at: FEB_8,
          expiringPoints: 0,
          projectedScore: 704,
          projectedTier: 'GOLD',
          pointsToKeep: 0,
          willDrop: false,
        },
        {
          at: MAR_8,
          expiringPoints: 101,
          projectedScore: 603,
          projectedTier: 'SILVER',
          pointsToKeep: 97,
          willDrop: true,
        },
        {
          at: APR_8,
          expiringPoints: 303,
          projectedScore: 300,
          projectedTier: 'BRONZE',
          pointsToKeep: 400,
          willDrop: true,
        },
      ],
      willDrop: true,
      dropTo: 'SILVER',
      dropAt: MAR_8,
    });
  });

  it('when the rule set moves one tier at a time, then each evaluation drops one tier', () => {
    const forecast = forecastEvaluations(gold({ tier: 'PLATINUM', score: 1004 }), evaluations(ONE_AT_A_TIME));
    expect(forecast.evaluations.map((e) => [e.projectedScore, e.projectedTier])).toEqual([
      [1004, 'PLATINUM'],
      [903, 'GOLD'],
      [600, 'SILVER'],
    ]);
    expect(forecast.dropTo).toBe('GOLD');
  });

  it('when the record carried no points per month, then it forecasts the announced expiry and nothing after', () => {
    const forecast = forecastEvaluations(gold({ months: null }), evaluations());
    expect(forecast.evaluations.map((e) => e.expiringPoints)).toEqual([0, 101, 0]);
  });

  it('when an evaluation already took the announced points, then they are not counted again', () => {
    // Evaluated on 8 March before scoring's record of it arrived: 603 now, nothing more known to leave.
    const evaluated = gold({ lastEvaluationAsOf: MAR_8, tier: 'SILVER' });
    const april = [{ at: APR_8, rules: DEFAULT_RULE_SET }];
    expect(forecastEvaluations(evaluated, april).evaluations[0]).toMatchObject({
      expiringPoints: 0,
      projectedScore: 603,
      projectedTier: 'SILVER',
    });
    // Once scoring's record of the March evaluation is applied, April's expiry is known.
    const told = {
      ...evaluated,
      score: 603,
      expiring: { points: 303, evaluationAt: APR_8 },
      months: [{ month: '2026-04', points: 303 }],
    };
    expect(forecastEvaluations(told, april).evaluations[0]).toMatchObject({
      expiringPoints: 303,
      projectedScore: 300,
      projectedTier: 'BRONZE',
    });
  });

  it('when any state is forecast, then its first evaluation is exactly what the evaluation policy does', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 300, max: 6000 }),
        fc.integer({ min: 0, max: 500 }),
        fc.constantFrom('BRONZE', 'SILVER', 'GOLD', 'PLATINUM', 'DIAMOND', 'BLACK_DIAMOND' as const),
        fc.constantFrom(FEB_8, MAR_8, APR_8),
        (score, expiring, tier, evaluationAt) => {
          const state = gold({
            tier,
            score,
            expiring: { points: Math.min(expiring, score), evaluationAt },
            months: null,
          });
          const [first] = forecastEvaluations(state, evaluations()).evaluations;
          const actual = evaluateMember(state, FEB_8, DEFAULT_RULE_SET.tiers);
          expect(first?.projectedTier).toBe(actual.state.tier);
          expect(first?.willDrop).toBe(actual.evaluated && actual.change !== null);
        },
      ),
    );
  });
});

describe('the explanation a decision keeps', () => {
  const downgrade: TierChange = {
    memberId: 'm-1',
    previousTier: 'GOLD',
    tier: 'SILVER',
    direction: 'down',
    reason: 'monthly-evaluation',
    score: 603,
    scoreVersion: 2,
    occurredAt: MAR_8,
    cause: { kind: 'evaluation', asOf: MAR_8 },
  };

  it('when tier evaluates before scoring’s evaluation record arrives, then the months are those the last record announced', () => {
    expect(explainTierChange(downgrade, gold(), DEFAULT_RULE_SET)).toEqual({
      at: MAR_8,
      from: 'GOLD',
      to: 'SILVER',
      direction: 'down',
      reason: 'monthly-evaluation',
      score: 603,
      scoreVersion: 2,
      threshold: 700,
      ruleVersion: '2026.1',
      evaluationAsOf: MAR_8,
      windowFrom: '2026-04',
      windowTo: '2027-03',
      expiredMonths: [{ month: '2026-03', points: 101 }],
    });
  });

  it('when scoring’s evaluation record arrives first, then the months it took out are still named', () => {
    const after = applyScoreUpdate(
      gold(),
      {
        version: 3,
        score: 603,
        occurredAt: MAR_8,
        expiringAtNextEvaluation: { points: 303, evaluationAt: APR_8 },
        pointsByMonth: [{ month: '2026-04', points: 303 }],
        reason: 'monthly-evaluation',
        window: { from: '2026-04', to: '2027-03' },
      },
      DEFAULT_RULE_SET.tiers,
    ).state;
    expect(monthsExpiredAt(after, MAR_8, DEFAULT_RULE_SET)).toEqual([{ month: '2026-03', points: 101 }]);
    expect(monthsExpiredAt(after, APR_8, DEFAULT_RULE_SET)).toEqual([{ month: '2026-04', points: 303 }]);
  });

  it('when a score change moves the member up, then the threshold is the new tier’s and there is no window', () => {
    const up: TierChange = {
      ...downgrade,
      previousTier: 'SILVER',
      tier: 'GOLD',
      direction: 'up',
      reason: 'score-increase',
      score: 704,
      cause: { kind: 'score', version: 2 },
      occurredAt: '2027-01-25T04:00:00.000Z',
    };
    expect(explainTierChange(up, gold({ tier: 'SILVER' }), DEFAULT_RULE_SET)).toMatchObject({
      threshold: 700,
      evaluationAsOf: null,
      windowFrom: null,
      windowTo: null,
      expiredMonths: [],
    });
  });
});
