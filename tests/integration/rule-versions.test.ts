/**
 * Rule versions with a validity (issue "Time" item 5, issue "What-if" item 5): a rule set adopted
 * through scoring's admin API changes nothing before the evaluation it is scheduled for and applies
 * from it, in scoring (points) and tier (thresholds) alike; `GET /v1/rules?asOf=` answers the
 * version in force on each side. Scoring and tier run in this process on one clock.
 */
import { DEFAULT_RULE_SET, type RuleSet } from '@taobi/rules';
import { TestClock, uniqueId, waitFor } from '../support';
import { order, Programme, READ } from './programme-kit';

const MAY_20 = '2027-05-20T04:00:00.000Z';
const MAY_21 = '2027-05-21T04:00:00.000Z';
const MAY_28 = '2027-05-28T04:00:00.000Z';
const JUN_8 = '2027-06-07T16:00:00.000Z';
const JUN_9 = '2027-06-09T04:00:00.000Z';

/** 2027.2: physical goods earn twice (20 CNY a point) and Silver starts at 500. */
function candidate(): RuleSet {
  const rules = structuredClone(DEFAULT_RULE_SET);
  rules.version = '2027.2';
  const physical = rules.score.sources.ecommerce?.categories.physical;
  if (!physical) throw new Error('the shipped rule set has ecommerce / physical');
  physical.fenPerPoint = 2_000;
  rules.tiers.thresholds.SILVER = 500;
  return rules;
}

describe('rule versions: an adopted rule set takes effect at its evaluation, never before', () => {
  const clock = new TestClock(MAY_20);
  const [shopper, traveller, late] = [uniqueId('m'), uniqueId('m'), uniqueId('m')];
  let programme: Programme;

  beforeAll(async () => {
    programme = await Programme.start(clock);
  }, 120_000);

  afterAll(async () => {
    await programme?.stop();
  });

  const rulesAt = async (asOf: string) =>
    (await programme.read('scoring', `/v1/rules?asOf=${encodeURIComponent(asOf)}`)) as {
      version: string;
      effectiveFrom: string;
      effectiveTo: string | null;
      backtestId: string | null;
      tiers: RuleSet['tiers'];
    };
  const adopt = (body: unknown) => programme.call('scoring', 'POST', '/v1/admin/rule-sets', body);

  it('when a rule set is adopted for a date, then it is scheduled for the evaluation on or after it, with the backtest that justified it, and the rules endpoint answers each version on its side', async () => {
    clock.set(MAY_21);
    // 2,000 CNY of physical goods: 50 points and a frequency point under 2026.1, 100 and 1 under 2027.2.
    await programme.produce([
      order(shopper, { amount: 200_000, occurredAt: '2027-05-10T12:00:00+08:00' }),
      order(late, { amount: 200_000, occurredAt: '2027-05-10T12:00:00+08:00' }),
    ]);
    // Two 4,800 CNY hotels: 60 + 2 points each, the same under both: Silver under 2026.1 only.
    await programme.produce(
      [1, 2].map(() =>
        order(traveller, {
          amount: 480_000,
          occurredAt: '2027-05-12T12:00:00+08:00',
          source: 'travel',
          category: 'hotel',
          channel: 'fliggy',
        }),
      ),
    );
    await programme.settle();

    // The backtest that justifies it: the candidate over this ledger, run to the end.
    const started = await programme.call('scoring', 'POST', '/v1/admin/backtests', {
      name: 'SILVER at 500, physical goods at 20 CNY a point',
      ruleSet: candidate(),
    });
    expect(started.status).toBe(202);
    const backtestId: string = started.body.id;
    await waitFor(
      async () =>
        (await programme.call('scoring', 'GET', `/v1/admin/backtests/${backtestId}`)).body.status ===
        'completed',
      { description: 'the backtest completed' },
    );
    const unjustified = await adopt({
      ruleSet: candidate(),
      effectiveFrom: '2027-05-25T00:00:00+08:00',
      backtestId: 'bt-42',
    });
    expect([unjustified.status, unjustified.body.error.fields]).toEqual([
      400,
      [{ field: 'backtestId', message: 'no backtest bt-42' }],
    ]);

    const adopted = await adopt({
      ruleSet: candidate(),
      effectiveFrom: '2027-05-25T00:00:00+08:00',
      backtestId,
    });
    expect(adopted.status).toBe(201);
    expect(adopted.body).toMatchObject({
      version: '2027.2',
      effectiveFrom: JUN_8,
      effectiveTo: null,
      origin: 'adopted',
      backtestId,
      requestedEffectiveFrom: '2027-05-24T16:00:00.000Z',
    });

    expect(await rulesAt('2027-05-30T00:00:00Z')).toMatchObject({
      version: '2026.1',
      effectiveFrom: MAY_20,
      effectiveTo: JUN_8,
      tiers: { thresholds: { SILVER: 400 } },
    });
    expect(await rulesAt(JUN_8)).toMatchObject({
      version: '2027.2',
      effectiveFrom: JUN_8,
      effectiveTo: null,
      backtestId,
      tiers: { thresholds: { SILVER: 500 } },
    });
    const versions = await programme.read('scoring', '/v1/rules/versions');
    expect(versions.inForce).toBe('2026.1');
    expect(versions.versions.map((v: { version: string }) => v.version)).toEqual(['2026.1', '2027.2']);
  });

  it('when spending is folded after the adoption but before its evaluation, then it earns under the rules in force, and tiers keep their thresholds', async () => {
    clock.set(MAY_28);
    await programme.produce([order(shopper, { amount: 200_000, occurredAt: '2027-05-27T12:00:00+08:00' })]);
    await programme.settle();
    const score = await programme.read('scoring', `/v1/members/${shopper}/score`);
    expect(score).toMatchObject({ score: 402, ruleVersion: '2026.1' });
    expect(await programme.read('tier', `/v1/members/${shopper}/tier`)).toMatchObject({
      tier: 'SILVER',
      ruleVersion: '2026.1',
    });
    expect(await programme.read('tier', `/v1/members/${traveller}/tier`)).toMatchObject({
      tier: 'SILVER',
      score: 424,
    });
    expect(await programme.read('tier', '/v1/tiers')).toMatchObject({ ruleVersion: '2026.1' });
  });

  it('when its evaluation runs, then scoring refolds every score under it and tier judges with its thresholds, and both answer as of either side', async () => {
    clock.set(JUN_8);
    // Folded at the instant it takes effect, before the evaluation has run: the member's whole
    // score is refolded under 2027.2 first (never half under one rule set, half under the other).
    await programme.produce([order(late, { amount: 200_000, occurredAt: '2027-06-01T12:00:00+08:00' })]);
    await programme.settle();
    expect(await programme.read('scoring', `/v1/members/${late}/score`)).toMatchObject({
      score: 502,
      breakdown: { ecommerce: 202 },
      ruleVersion: '2027.2',
    });
    await programme.evaluate();
    // Two orders of 100 + 1 points under 2027.2: 502, Silver under 2027.2's 500.
    expect(await programme.read('scoring', `/v1/members/${shopper}/score`)).toMatchObject({
      score: 502,
      ruleVersion: '2027.2',
    });
    expect(await programme.read('tier', `/v1/members/${shopper}/tier`)).toMatchObject({ tier: 'SILVER' });
    // 424 is under 2027.2's Silver: the evaluation moves the traveller down, saying why.
    expect(await programme.read('tier', `/v1/members/${traveller}/tier`)).toMatchObject({ tier: 'BRONZE' });
    const history = await programme.read('tier', `/v1/members/${traveller}/tier/history`);
    expect(history.decisions[0]).toMatchObject({
      from: 'SILVER',
      to: 'BRONZE',
      reason: 'monthly-evaluation',
      score: 424,
      threshold: 500,
      ruleVersion: '2027.2',
      evaluationAsOf: JUN_8,
    });

    clock.set(JUN_9);
    expect(await programme.read('tier', '/v1/tiers')).toMatchObject({
      ruleVersion: '2027.2',
      tiers: expect.arrayContaining([{ tier: 'SILVER', rank: 1, threshold: 500 }]),
    });
    const before = await programme.read('scoring', `/v1/members/${shopper}/score?asOf=2027-06-01T00:00:00Z`);
    expect(before).toMatchObject({ score: 402, ruleVersion: '2026.1' });
    const versions = await programme.read('scoring', `/v1/members/${shopper}/score/versions`);
    expect(versions.versions.at(-1)).toMatchObject({
      score: 502,
      ruleVersion: '2027.2',
      reason: 'monthly-evaluation',
      logPosition: null,
    });
    expect(
      await programme.read('tier', `/v1/members/${traveller}/tier?asOf=2027-06-01T00:00:00Z`),
    ).toMatchObject({ tier: 'SILVER', ruleVersion: '2026.1', asOf: '2027-06-01T00:00:00.000Z' });
  });

  it('when an adoption is malformed, retroactive, changes the calendar or reuses a version, then it is refused naming the field and nothing is registered', async () => {
    const broken = candidate();
    broken.version = '2027.3';
    broken.tiers.thresholds.GOLD = 100;
    const otherDay = candidate();
    otherDay.version = '2027.4';
    otherDay.evaluation.dayOfMonth = 15;
    const cases: [unknown, number, string, string[]][] = [
      [
        { ruleSet: candidate(), effectiveFrom: '2027-06-01T00:00:00Z' },
        400,
        'VALIDATION_FAILED',
        ['effectiveFrom'],
      ],
      [{ ruleSet: candidate(), effectiveFrom: 'next month' }, 400, 'VALIDATION_FAILED', ['effectiveFrom']],
      [{ effectiveFrom: '2027-09-01T00:00:00Z' }, 400, 'VALIDATION_FAILED', ['ruleSet']],
      [
        { ruleSet: broken, effectiveFrom: '2027-09-01T00:00:00Z' },
        400,
        'VALIDATION_FAILED',
        ['ruleSet.tiers.thresholds'],
      ],
      [
        { ruleSet: otherDay, effectiveFrom: '2027-09-01T00:00:00Z' },
        400,
        'VALIDATION_FAILED',
        ['ruleSet.evaluation.dayOfMonth'],
      ],
      [
        { ruleSet: candidate(), effectiveFrom: '2027-09-01T00:00:00Z', approvedBy: 'me' },
        400,
        'VALIDATION_FAILED',
        ['approvedBy'],
      ],
      [{ ruleSet: candidate(), effectiveFrom: '2027-09-01T00:00:00Z' }, 409, 'CONFLICT', []],
    ];
    for (const [body, status, code, fields] of cases) {
      const response = await adopt(body);
      expect([JSON.stringify(body).slice(0, 60), response.status, response.body.error.code]).toEqual([
        JSON.stringify(body).slice(0, 60),
        status,
        code,
      ]);
      expect((response.body.error.fields ?? []).map((f: { field: string }) => f.field)).toEqual(fields);
    }
    const read = await programme.call(
      'scoring',
      'POST',
      '/v1/admin/rule-sets',
      { ruleSet: candidate() },
      READ,
    );
    // A read key is known, but not an admin's: 403.
    expect(read.status).toBe(403);
    const badAsOf = await programme.call('scoring', 'GET', '/v1/rules?asOf=June', undefined, READ);
    expect([badAsOf.status, badAsOf.body.error.fields]).toEqual([
      400,
      [expect.objectContaining({ field: 'asOf' })],
    ]);
    const beforeStart = await programme.call(
      'scoring',
      'GET',
      '/v1/rules?asOf=2020-01-01T00:00:00Z',
      undefined,
      READ,
    );
    expect(beforeStart.status).toBe(404);
    const versions = await programme.read('scoring', '/v1/rules/versions');
    expect(versions.versions.map((v: { version: string }) => v.version)).toEqual(['2026.1', '2027.2']);
  });
});
