/**
 * Time (issue "Time"): as-of answers, explained tier decisions and the forecast, through the public
 * APIs of scoring and tier running in this process over the real Kafka, Postgres and Redis, their
 * clocks moved together from January to April 2027 through three monthly evaluations.
 */
import { TestClock, uniqueId } from '../support';
import { order, Programme } from './programme-kit';

// Asia/Shanghai instants: noon on a given day, and the evaluations (the 8th, 00:00).
const JAN_20 = '2027-01-20T04:00:00.000Z';
const JAN_21 = '2027-01-21T04:00:00.000Z';
const JAN_25 = '2027-01-25T04:00:00.000Z';
const FEB_8 = '2027-02-07T16:00:00.000Z';
const MAR_8 = '2027-03-07T16:00:00.000Z';
const APR_8 = '2027-04-07T16:00:00.000Z';
const APR_20 = '2027-04-20T04:00:00.000Z';

describe('time: what the services had assigned at any instant, why, and what comes next', () => {
  // A member placed (first score), upgraded, then downgraded twice by evaluations.
  const clock = new TestClock(JAN_20);
  const member = uniqueId('m');
  let programme: Programme;
  // What the forecast said on January 25th, compared with each evaluation as it runs.
  let forecast: {
    tier: string;
    score: number;
    evaluations: {
      at: string;
      expiringPoints: number;
      projectedScore: number;
      projectedTier: string;
      pointsToKeep: number;
      willDrop: boolean;
    }[];
    willDrop: boolean;
    dropTo: string | null;
    dropAt: string | null;
  };

  const tierAt = (asOf: string) =>
    programme.read('tier', `/v1/members/${member}/tier?asOf=${encodeURIComponent(asOf)}`);
  const scoreAt = (asOf: string) =>
    programme.read('scoring', `/v1/members/${member}/score?asOf=${encodeURIComponent(asOf)}`);
  const now = async () => ({
    tier: await programme.read('tier', `/v1/members/${member}/tier`),
    score: await programme.read('scoring', `/v1/members/${member}/score`),
  });

  beforeAll(async () => {
    programme = await Programme.start(clock);
  }, 120_000);

  afterAll(async () => {
    await programme?.stop();
  });

  it('when a member spends in March, then in April 2026, then they are placed in Silver and upgraded to Gold, and the forecast names the evaluations that will take the points back', async () => {
    // 4,000 CNY of physical goods is 100 points (the order cap) and a frequency point.
    clock.set(JAN_21);
    await programme.produce([order(member, { amount: 400_000, occurredAt: '2026-03-15T12:00:00+08:00' })]);
    await programme.settle();
    expect((await now()).tier).toMatchObject({ tier: 'SILVER', score: 401 });

    clock.set(JAN_25);
    await programme.produce(
      [1, 2, 3].map(() => order(member, { amount: 400_000, occurredAt: '2026-04-15T12:00:00+08:00' })),
    );
    await programme.settle();
    expect((await now()).tier).toMatchObject({ tier: 'GOLD', score: 704 });

    forecast = await programme.read('tier', `/v1/members/${member}/forecast`);
    expect(forecast).toEqual({
      memberId: member,
      tier: 'GOLD',
      score: 704,
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

  it('when the clock moves through three evaluations, then each does exactly what the forecast said', async () => {
    for (const expected of forecast.evaluations) {
      clock.set(expected.at);
      await programme.evaluate();
      const { tier, score } = await now();
      expect({ at: expected.at, tier: tier.tier, score: tier.score }).toEqual({
        at: expected.at,
        tier: expected.projectedTier,
        score: expected.projectedScore,
      });
      expect(score.score).toBe(expected.projectedScore);
    }
  });

  it('when the member disputes the March downgrade, then its decision names the threshold, the window counted and the month that expired', async () => {
    clock.set(APR_20);
    const history = await programme.read('tier', `/v1/members/${member}/tier/history`);
    expect(history.nextCursor).toBeNull();
    expect(
      history.decisions.map(
        (d: { from: string; to: string; reason: string }) => `${d.from}>${d.to}:${d.reason}`,
      ),
    ).toEqual([
      'SILVER>BRONZE:monthly-evaluation',
      'GOLD>SILVER:monthly-evaluation',
      'SILVER>GOLD:score-increase',
      'null>SILVER:first-score',
    ]);
    expect(history.decisions[1]).toMatchObject({
      at: MAR_8,
      from: 'GOLD',
      to: 'SILVER',
      direction: 'down',
      reason: 'monthly-evaluation',
      score: 603,
      threshold: 700,
      ruleVersion: '2026.1',
      evaluationAsOf: MAR_8,
      windowFrom: '2026-04',
      windowTo: '2027-03',
      expiredMonths: [{ month: '2026-03', points: 101 }],
    });
    expect(history.decisions[3]).toMatchObject({
      from: null,
      direction: 'initial',
      threshold: 400,
      score: 401,
      scoreVersion: 1,
    });

    // Paged one at a time, newest first, each decision once.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { decisions: { at: string; to: string }[]; nextCursor: string | null } =
        await programme.read(
          'tier',
          `/v1/members/${member}/tier/history?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        );
      expect(page.decisions.length).toBeLessThanOrEqual(1);
      seen.push(...page.decisions.map((d) => `${d.at}>${d.to}`));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(history.decisions.map((d: { at: string; to: string }) => `${d.at}>${d.to}`));

    // The record downstream apps received carries the same decision.
    const records = await programme.tierChanges(member);
    expect(records.map((r) => r.decision)).toEqual([...history.decisions].reverse().map(withoutStorage));
  });

  it('when asked as of any instant, then tier and scoring answer what they had assigned then, and a new member before the first event', async () => {
    const cases: [string, string, number][] = [
      ['2027-01-20T12:00:00.000Z', 'BRONZE', 300],
      ['2027-01-23T00:00:00.000Z', 'SILVER', 401],
      ['2027-02-20T00:00:00.000Z', 'GOLD', 704],
      ['2027-03-20T00:00:00.000Z', 'SILVER', 603],
      ['2027-04-10T00:00:00.000Z', 'BRONZE', 300],
    ];
    for (const [asOf, tier, score] of cases) {
      expect([asOf, (await tierAt(asOf)).tier, (await tierAt(asOf)).score]).toEqual([asOf, tier, score]);
      expect([asOf, (await scoreAt(asOf)).score]).toEqual([asOf, score]);
    }
    expect(await tierAt('2027-01-23T00:00:00+08:00')).toMatchObject({
      memberId: member,
      tier: 'SILVER',
      since: JAN_21,
      next: { tier: 'GOLD', threshold: 700, pointsNeeded: 299 },
      asOf: '2027-01-22T16:00:00.000Z',
    });
    expect(await scoreAt('2027-02-20T00:00:00.000Z')).toMatchObject({
      score: 704,
      version: 2,
      breakdown: { base: 300, ecommerce: 404 },
      ruleVersion: '2026.1',
      asOf: '2027-02-20T00:00:00.000Z',
    });
    // Before the member's first event, and before the programme started: the new member.
    for (const asOf of ['2027-01-20T12:00:00.000Z', '2020-01-01T00:00:00.000Z']) {
      expect(await tierAt(asOf)).toMatchObject({ tier: 'BRONZE', score: 300, since: null, scoreVersion: 0 });
      expect(await scoreAt(asOf)).toMatchObject({ score: 300, version: 0, updatedAt: null });
    }
  });

  it('when asOf is malformed or in the future, or a history page is out of bounds or its cursor forged, then the answer is 400 naming the field', async () => {
    const cases: ['scoring' | 'tier', string, string, string][] = [
      ['tier', `/v1/members/${member}/tier?asOf=yesterday`, 'VALIDATION_FAILED', 'asOf'],
      ['tier', `/v1/members/${member}/tier?asOf=2031-01-01T00:00:00Z`, 'VALIDATION_FAILED', 'asOf'],
      ['scoring', `/v1/members/${member}/score?asOf=2027-13-01T00:00:00Z`, 'VALIDATION_FAILED', 'asOf'],
      ['scoring', `/v1/members/${member}/score?asOf=2031-01-01T00:00:00Z`, 'VALIDATION_FAILED', 'asOf'],
      ['tier', `/v1/members/${member}/tier/history?limit=0`, 'VALIDATION_FAILED', 'limit'],
      ['tier', `/v1/members/${member}/tier/history?limit=201`, 'VALIDATION_FAILED', 'limit'],
      ['tier', `/v1/members/${member}/tier/history?cursor=WzFd0`, 'INVALID_CURSOR', 'cursor'],
      ['tier', `/v1/members/${member}/tier/history?cursor=${b64([0])}`, 'INVALID_CURSOR', 'cursor'],
      ['tier', `/v1/members/${member}/tier/history?cursor=${b64(['1'])}`, 'INVALID_CURSOR', 'cursor'],
      ['tier', `/v1/members/${member}/tier/history?cursor=${b64([1, 2])}`, 'INVALID_CURSOR', 'cursor'],
    ];
    for (const [service, path, code, field] of cases) {
      const response = await programme.call(service, 'GET', path, undefined, {
        authorization: 'Bearer dev-read-key',
      });
      expect([path, response.status, response.body.error.code]).toEqual([path, 400, code]);
      expect(response.body.error.fields).toEqual([expect.objectContaining({ field })]);
    }
    const unknown = await programme.read('tier', `/v1/members/${uniqueId('m')}/tier/history`);
    expect(unknown).toMatchObject({ decisions: [], nextCursor: null });
  });
});

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A stored decision as the record carries it (the table's own fields left out). */
function withoutStorage(decision: Record<string, unknown>) {
  const { eventId: _eventId, decidedAt: _decidedAt, revision: _revision, ...rest } = decision;
  return rest;
}
