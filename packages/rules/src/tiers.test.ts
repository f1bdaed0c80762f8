import { TIERS, type Tier, tierRank } from '@taobi/contracts';
import fc from 'fast-check';
import { DEFAULT_RULE_SET } from './rule-set';
import {
  applyScoreUpdate,
  assertValidThresholds,
  currentScore,
  effectiveScore,
  evaluateMember,
  type MemberTier,
  progressToNextTier,
  retentionOutlook,
  type ScoreUpdate,
  type TierChange,
  type TierRules,
  tierForScore,
  tierTable,
  unseenMember,
} from './tiers';

const RULES = DEFAULT_RULE_SET.tiers;
const ONE_AT_A_TIME: TierRules = { ...RULES, downgrade: 'one-tier-at-a-time' };
const T = RULES.thresholds;
const DEC_EVALUATION = '2026-12-07T16:00:00.000Z';
const JAN_EVALUATION = '2027-01-07T16:00:00.000Z';

function update(version: number, score: number, expiring = 0, evaluationAt = DEC_EVALUATION): ScoreUpdate {
  return {
    version,
    score,
    occurredAt: `2026-11-20T10:00:${String(version % 60).padStart(2, '0')}.000Z`,
    expiringAtNextEvaluation: { points: expiring, evaluationAt },
  };
}

/** Applies updates in the given order, collecting the changes. */
function run(updates: ScoreUpdate[], rules: TierRules = RULES, start = unseenMember('m-1', 300, 'x')) {
  let state = start;
  const changes: TierChange[] = [];
  for (const u of updates) {
    const outcome = applyScoreUpdate(state, u, rules);
    state = outcome.state;
    if (outcome.applied && outcome.change) changes.push(outcome.change);
  }
  return { state, changes };
}

const scoreArb = fc.integer({ min: 0, max: 7000 });

describe('the tier table', () => {
  it('when the default rule set is read, then Platinum starts at 1000 and the thresholds rise', () => {
    expect(() => assertValidThresholds(T)).not.toThrow();
    expect(tierTable(T).map((row) => [row.tier, row.threshold])).toEqual([
      ['BRONZE', 0],
      ['SILVER', 400],
      ['GOLD', 700],
      ['PLATINUM', 1000],
      ['DIAMOND', 2500],
      ['BLACK_DIAMOND', 5000],
    ]);
  });

  it('when thresholds do not rise or Bronze is not 0, then they are refused', () => {
    expect(() => assertValidThresholds({ ...T, GOLD: 400 })).toThrow(/GOLD/);
    expect(() => assertValidThresholds({ ...T, BRONZE: 10 })).toThrow(/BRONZE/);
  });

  it('when a score sits exactly on a threshold, then it reaches that tier', () => {
    expect(tierForScore(399, T)).toBe('BRONZE');
    expect(tierForScore(400, T)).toBe('SILVER');
    expect(tierForScore(999, T)).toBe('GOLD');
    expect(tierForScore(1000, T)).toBe('PLATINUM');
    expect(tierForScore(5000, T)).toBe('BLACK_DIAMOND');
  });

  it('when any score is placed, then it is within its tier band and higher scores never place lower', () => {
    fc.assert(
      fc.property(scoreArb, scoreArb, (a, b) => {
        const tier = tierForScore(a, T);
        expect(a).toBeGreaterThanOrEqual(T[tier]);
        const next = TIERS[tierRank(tier) + 1];
        if (next) expect(a).toBeLessThan(T[next]);
        if (a <= b) expect(tierRank(tier)).toBeLessThanOrEqual(tierRank(tierForScore(b, T)));
      }),
    );
  });

  it('when a Gold member has 650 points, then the next tier is Platinum, 350 points away', () => {
    expect(progressToNextTier('GOLD', 650, T)).toEqual({
      tier: 'PLATINUM',
      threshold: 1000,
      pointsNeeded: 350,
    });
    expect(progressToNextTier('BLACK_DIAMOND', 9000, T)).toBeNull();
  });
});

describe('upgrades on score changes', () => {
  it('when a member’s first score arrives, then one initial change places them, at Bronze or straight at the tier it reaches', () => {
    for (const [score, tier] of [
      [300, 'BRONZE'],
      [399, 'BRONZE'],
      [1200, 'PLATINUM'],
    ] as const) {
      const { changes, state } = run([update(4, score)]);
      expect(changes).toEqual([
        {
          memberId: 'm-1',
          previousTier: null,
          tier,
          direction: 'initial',
          reason: 'first-score',
          score,
          scoreVersion: 4,
          occurredAt: update(4, score).occurredAt,
          cause: { kind: 'score', version: 4 },
        },
      ]);
      expect(state).toMatchObject({ tier, since: update(4, score).occurredAt, scoreVersion: 4 });
    }
  });

  it('when a score crosses 400, 700, 1000, 2500, 5000 in steps, then one change per crossing, in order', () => {
    const scores = [350, 400, 450, 699, 700, 720, 1000, 1200, 2600, 4999, 5000, 6000];
    const { changes, state } = run(scores.map((score, i) => update(i + 1, score)));
    expect(changes.map((c) => [c.previousTier, c.tier, c.direction, c.score])).toEqual([
      [null, 'BRONZE', 'initial', 350],
      ['BRONZE', 'SILVER', 'up', 400],
      ['SILVER', 'GOLD', 'up', 700],
      ['GOLD', 'PLATINUM', 'up', 1000],
      ['PLATINUM', 'DIAMOND', 'up', 2600],
      ['DIAMOND', 'BLACK_DIAMOND', 'up', 5000],
    ]);
    expect(changes.slice(1).every((c) => c.reason === 'score-increase')).toBe(true);
    expect(state).toMatchObject({ tier: 'BLACK_DIAMOND', scoreVersion: 12, downgradePending: false });
  });

  it('when one change jumps across two thresholds, then it is one change straight to the higher tier', () => {
    const { changes } = run([update(1, 350), update(2, 800)]);
    expect(changes).toHaveLength(2);
    expect(changes[1]).toMatchObject({
      previousTier: 'BRONZE',
      tier: 'GOLD',
      direction: 'up',
      scoreVersion: 2,
    });
    expect(changes[1]?.cause).toEqual({ kind: 'score', version: 2 });
  });

  it('when a record arrives twice or after a newer one, then it is ignored', () => {
    const first = run([update(1, 450), update(2, 750)]);
    const again = applyScoreUpdate(first.state, update(2, 750), RULES);
    const late = applyScoreUpdate(first.state, update(1, 450), RULES);
    expect(again.applied).toBe(false);
    expect(late.applied).toBe(false);
    expect(again.state).toBe(first.state);
  });

  it('when records arrive in any order and repeated, then the tier never goes down, changes only go up, and none repeats', () => {
    fc.assert(
      fc.property(
        fc.array(scoreArb, { minLength: 1, maxLength: 15 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (scores, picks) => {
          const updates = scores.map((score, i) => update(i + 1, score));
          const delivered = [...updates, ...picks.map((p) => updates[p % updates.length] as ScoreUpdate)];
          const { changes, state } = run(delivered);
          const ranks = changes.map((c) => tierRank(c.tier));
          for (let i = 1; i < ranks.length; i += 1) expect(ranks[i]).toBeGreaterThan(ranks[i - 1] as number);
          expect(changes.map((c) => c.direction)).toEqual(['initial', ...changes.slice(1).map(() => 'up')]);
          expect(new Set(changes.map((c) => c.scoreVersion)).size).toBe(changes.length);
          // In order, the tier ends at the highest tier any score reached.
          const highest = Math.max(...scores.map((s) => tierRank(tierForScore(s, T))));
          expect(tierRank(state.tier)).toBe(highest);
          expect(state.downgradePending).toBe(tierRank(tierForScore(state.score, T)) < highest);
        },
      ),
    );
  });

  it('when records arrive shuffled, then only those newer than every earlier one count, and each counts once', () => {
    fc.assert(
      fc.property(
        fc
          .array(scoreArb, { minLength: 1, maxLength: 12 })
          .chain((scores) =>
            fc.tuple(
              fc.constant(scores),
              fc.shuffledSubarray([...scores.keys(), ...scores.keys()], { minLength: 1 }),
            ),
          ),
        ([scores, order]) => {
          const delivered = order.map((i) => update(i + 1, scores[i] as number));
          const { changes, state } = run(delivered);
          let newest = 0;
          let highest = 0;
          for (const u of delivered) {
            if (u.version <= newest) continue;
            newest = u.version;
            highest = Math.max(highest, tierRank(tierForScore(u.score, T)));
          }
          expect(state.scoreVersion).toBe(newest);
          expect(tierRank(state.tier)).toBe(highest);
          expect(changes.map((c) => c.direction)).toEqual(['initial', ...changes.slice(1).map(() => 'up')]);
          expect(new Set(changes.map((c) => c.tier)).size).toBe(changes.length);
        },
      ),
    );
  });

  it('when a refund drops the score below the threshold, then the tier holds and a downgrade is pending; climbing back clears it', () => {
    const dropped = run([update(1, 750), update(2, 650)]);
    expect(dropped.changes).toHaveLength(1);
    expect(dropped.state).toMatchObject({ tier: 'GOLD', score: 650, downgradePending: true });
    const back = applyScoreUpdate(dropped.state, update(3, 710), RULES);
    expect(back).toMatchObject({ applied: true, change: null });
    expect(back.state.downgradePending).toBe(false);
  });
});

describe('refund clawbacks', () => {
  const at = (days: number) => new Date(Date.parse('2026-11-20T10:00:00Z') + days * 86_400_000).toISOString();
  const refund = (version: number, score: number, days: number): ScoreUpdate => ({
    ...update(version, score),
    occurredAt: at(days),
    refundEventIds: [`rf-${version}`],
  });
  /** Bought Black Diamond on day 0 (after being placed at Bronze), then the given records. */
  function afterPurchase(records: ScoreUpdate[], clawbackDays = 30) {
    let state = unseenMember('m-1', 300, 'x');
    const changes: TierChange[] = [];
    for (const u of [
      { ...update(1, 350), occurredAt: at(-40) },
      { ...update(2, 5200), occurredAt: at(0) },
      ...records,
    ]) {
      const outcome = applyScoreUpdate(state, u, RULES, null, clawbackDays);
      state = outcome.state;
      if (outcome.applied && outcome.change) changes.push(outcome.change);
    }
    return { state, changes };
  }

  it('when a refund within the window takes the score below the tier, then the tier goes back at once to what the rest supports', () => {
    const { state, changes } = afterPurchase([refund(3, 800, 12)]);
    expect(changes.map((c) => [c.previousTier, c.tier, c.direction, c.reason])).toEqual([
      [null, 'BRONZE', 'initial', 'first-score'],
      ['BRONZE', 'BLACK_DIAMOND', 'up', 'score-increase'],
      ['BLACK_DIAMOND', 'GOLD', 'down', 'refund-clawback'],
    ]);
    expect(changes[2]).toMatchObject({
      score: 800,
      scoreVersion: 3,
      occurredAt: at(12),
      cause: { kind: 'score', version: 3 },
    });
    expect(state).toMatchObject({ tier: 'GOLD', since: at(12), downgradePending: false });
    // The evaluation that follows finds the tier held: nothing moves.
    expect(evaluateMember(state, DEC_EVALUATION, RULES)).toMatchObject({ evaluated: true, change: null });
  });

  it('when a first score placed the member high and a refund then takes it away, then the placement is taken back too', () => {
    let state = unseenMember('m-1', 300, 'x');
    state = applyScoreUpdate(state, { ...update(1, 5200), occurredAt: at(0) }, RULES, null, 30).state;
    const outcome = applyScoreUpdate(state, refund(2, 300, 1), RULES, null, 30);
    expect(outcome.applied && outcome.change).toMatchObject({
      previousTier: 'BLACK_DIAMOND',
      tier: 'BRONZE',
      reason: 'refund-clawback',
    });
  });

  it.each([
    ['a dip that is not a refund (an expiry, a rebuild)', [{ ...update(3, 800), occurredAt: at(12) }], 30],
    ['a refund after the window', [refund(3, 800, 31)], 30],
    ['a refund with clawbacks turned off', [refund(3, 800, 1)], 0],
  ] as const)(
    'when the score dips through %s, then the tier waits for the evaluation with a downgrade pending',
    (_name, records, days) => {
      const { state, changes } = afterPurchase([...records], days);
      expect(changes.at(-1)?.reason).toBe('score-increase');
      expect(state).toMatchObject({ tier: 'BLACK_DIAMOND', downgradePending: true });
    },
  );

  it('when a refund leaves the tier reached, then nothing changes', () => {
    const { state, changes } = afterPurchase([refund(3, 5050, 2)]);
    expect(changes).toHaveLength(2);
    expect(state).toMatchObject({ tier: 'BLACK_DIAMOND', downgradePending: false });
  });
});

describe('the monthly evaluation', () => {
  function atScore(score: number, tier: Tier, expiring = 0, evaluationAt = DEC_EVALUATION): MemberTier {
    return {
      ...unseenMember('m-1', 300, '2026-01-01T00:00:00.000Z'),
      tier,
      score,
      scoreVersion: 5,
      expiring: { points: expiring, evaluationAt },
      downgradePending: tierRank(tierForScore(score, T)) < tierRank(tier),
    };
  }

  it('when the score no longer holds the tier, then the member moves to the supported tier once', () => {
    const first = evaluateMember(atScore(650, 'PLATINUM'), DEC_EVALUATION, RULES);
    expect(first.evaluated && first.change).toMatchObject({
      previousTier: 'PLATINUM',
      tier: 'SILVER',
      direction: 'down',
      reason: 'monthly-evaluation',
      score: 650,
      scoreVersion: 5,
      occurredAt: DEC_EVALUATION,
    });
    expect(first.state).toMatchObject({ tier: 'SILVER', downgradePending: false, since: DEC_EVALUATION });
    const second = evaluateMember(first.state, DEC_EVALUATION, RULES);
    expect(second.evaluated).toBe(false);
    expect(second.state).toBe(first.state);
  });

  it('when the policy is one tier at a time, then each evaluation moves one tier, and a rerun none', () => {
    const dec = evaluateMember(atScore(650, 'DIAMOND'), DEC_EVALUATION, ONE_AT_A_TIME);
    expect(dec.state).toMatchObject({ tier: 'PLATINUM', downgradePending: true });
    expect(evaluateMember(dec.state, DEC_EVALUATION, ONE_AT_A_TIME).evaluated).toBe(false);
    const jan = evaluateMember(dec.state, JAN_EVALUATION, ONE_AT_A_TIME);
    expect(jan.evaluated && jan.change).toMatchObject({ previousTier: 'PLATINUM', tier: 'GOLD' });
  });

  it('when the score holds the tier, then nothing changes and the member is marked evaluated', () => {
    const outcome = evaluateMember(atScore(720, 'GOLD'), DEC_EVALUATION, RULES);
    expect(outcome).toMatchObject({ evaluated: true, change: null });
    expect(outcome.state.lastEvaluationAsOf).toBe(DEC_EVALUATION);
  });

  it('when points expire at this evaluation and scoring has not said so yet, then the forecast decides, and scoring’s own record later changes nothing', () => {
    // 1050 now, 100 of them expire at the December evaluation: 950 holds Gold, not Platinum.
    const member = atScore(1050, 'PLATINUM', 100, DEC_EVALUATION);
    expect(member.downgradePending).toBe(false);
    const outcome = evaluateMember(member, DEC_EVALUATION, RULES);
    expect(outcome.evaluated && outcome.change).toMatchObject({ tier: 'GOLD', score: 950 });
    // A consumption record written by scoring before its evaluation, arriving late: still 950.
    const late = applyScoreUpdate(outcome.state, update(6, 1080, 100, DEC_EVALUATION), RULES);
    expect(late).toMatchObject({ applied: true, change: null });
    expect(currentScore(late.state)).toBe(980);
    // Scoring's monthly-evaluation record: the expiry applied, the next forecast for January.
    const scoring = applyScoreUpdate(late.state, update(7, 980, 30, JAN_EVALUATION), RULES);
    expect(scoring).toMatchObject({ applied: true, change: null });
    expect(scoring.state).toMatchObject({ tier: 'GOLD', downgradePending: false });
  });

  it('when a pre-evaluation record arrives while the evaluation is under way, then its expiring points do not upgrade', () => {
    const member = atScore(690, 'SILVER', 0, DEC_EVALUATION);
    // Scoring wrote 720 before its December evaluation, 50 of which expire there.
    const late = update(6, 720, 50, DEC_EVALUATION);
    expect(
      applyScoreUpdate(member, late, RULES).applied && applyScoreUpdate(member, late, RULES),
    ).toMatchObject({
      change: { tier: 'GOLD' },
    });
    expect(applyScoreUpdate(member, late, RULES, DEC_EVALUATION)).toMatchObject({
      applied: true,
      change: null,
    });
  });

  it('when scoring evaluated first, then its record already holds the expiry and is not taken off twice', () => {
    const member = atScore(950, 'PLATINUM', 40, JAN_EVALUATION);
    expect(effectiveScore(950, member.expiring, DEC_EVALUATION)).toBe(950);
    const outcome = evaluateMember(member, DEC_EVALUATION, RULES);
    expect(outcome.evaluated && outcome.change).toMatchObject({ tier: 'GOLD', score: 950 });
  });

  it('when any member is evaluated twice for the same instant, then the second run changes nothing', () => {
    fc.assert(
      fc.property(
        scoreArb,
        fc.constantFrom(...TIERS),
        fc.integer({ min: 0, max: 500 }),
        fc.boolean(),
        fc.constantFrom(RULES, ONE_AT_A_TIME),
        (score, tier, expiring, dueNow, rules) => {
          const member = atScore(score, tier, expiring, dueNow ? DEC_EVALUATION : JAN_EVALUATION);
          const first = evaluateMember(member, DEC_EVALUATION, rules);
          expect(first.evaluated).toBe(true);
          if (first.evaluated && first.change) {
            expect(tierRank(first.change.tier)).toBeLessThan(tierRank(tier));
            expect(first.change.direction).toBe('down');
          }
          expect(tierRank(first.state.tier)).toBeLessThanOrEqual(tierRank(tier));
          const forecast = effectiveScore(score, member.expiring, DEC_EVALUATION);
          if (
            rules.downgrade === 'to-supported-tier' &&
            tierRank(tier) > tierRank(tierForScore(forecast, T))
          ) {
            expect(first.state.tier).toBe(tierForScore(forecast, T));
          }
          expect(evaluateMember(first.state, DEC_EVALUATION, rules).evaluated).toBe(false);
        },
      ),
    );
  });

  it('when a Gold member has 760 points of which 100 expire next, then 40 more are needed to keep Gold', () => {
    const member = atScore(760, 'GOLD', 100, DEC_EVALUATION);
    expect(retentionOutlook(member, DEC_EVALUATION, T)).toEqual({
      expiringPoints: 100,
      forecastScore: 660,
      pointsNeeded: 40,
    });
    expect(retentionOutlook(member, DEC_EVALUATION, T).pointsNeeded).toBe(40);
    const evaluated = { ...member, lastEvaluationAsOf: DEC_EVALUATION };
    expect(retentionOutlook(evaluated, JAN_EVALUATION, T).expiringPoints).toBe(0);
  });
});
