import { DEFAULT_CATALOGUE } from '@taobi/benefits';
import type { ConsumptionEvent } from '@taobi/contracts';
import type { Service } from '@taobi/platform';
import { addMonths, shanghaiDayStart, shanghaiMonth } from '@taobi/rules';
import { uniqueId, waitFor } from '@taobi/tests';
import { ADMIN, createStage, order, produceAndFold, READ, type Stage, startScoring } from './harness';

/** A 4,000 CNY physical order `monthsAgo` Shanghai months back: 100 points and a frequency point. */
function bigOrder(memberId: string, monthsAgo: number, day: number): ConsumptionEvent {
  const month = addMonths(shanghaiMonth(new Date()), -monthsAgo);
  return order({
    memberId,
    amount: 400_000,
    occurredAt: new Date(shanghaiDayStart(month, day).getTime() + 12 * 3600_000).toISOString(),
  });
}

/** `orders` big orders spread over the last months, at most three a month (the monthly cap). */
function spending(memberId: string, orders: number): ConsumptionEvent[] {
  return Array.from({ length: orders }, (_, i) => bigOrder(memberId, 1 + Math.floor(i / 3), 10 + (i % 3)));
}

describe('backtests of a rule change over the ledger', () => {
  let stage: Stage;
  let service: Service;
  // Scores: 300 + 101 per order (303 a month at most).
  const gold = uniqueId('m-gold'); // 6 orders: 906
  const justPlatinum = uniqueId('m-plat-a'); // 7 orders: 1007
  const platinum = uniqueId('m-plat-b'); // 8 orders: 1108
  const highPlatinum = uniqueId('m-plat-c'); // 9 orders: 1209
  const events = [
    ...spending(gold, 6),
    ...spending(justPlatinum, 7),
    ...spending(platinum, 8),
    ...spending(highPlatinum, 9),
  ];

  beforeAll(async () => {
    // One member a page; the sweep of this instance stays out of the way of the restart tests'.
    stage = await createStage({ BACKTEST_PAGE_SIZE: '1', BACKTEST_LEASE_MS: '600000' });
    service = await startScoring(stage);
    await produceAndFold(stage, events);
  });

  afterAll(async () => {
    await service?.stop();
    await stage?.close();
  });

  const post = (app: Service['app'], payload: unknown) =>
    app.inject({ method: 'POST', url: '/v1/admin/backtests', headers: ADMIN, payload: payload as object });
  const read = (app: Service['app'], id: string) =>
    app.inject({ url: `/v1/admin/backtests/${id}`, headers: ADMIN });
  async function completed(app: Service['app'], id: string) {
    return waitFor(
      async () => {
        const body = (await read(app, id)).json();
        return body.status === 'completed' ? body : undefined;
      },
      { timeoutMs: 30_000, description: `backtest ${id} to complete` },
    );
  }
  async function run(payload: unknown, app = service.app) {
    const response = await post(app, payload);
    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({ id: expect.any(String), status: 'running' });
    return completed(app, response.json().id);
  }

  it('when Platinum is raised from 1000 to 1200, then exactly the members between move down to Gold and lose 88VIP eligibility', async () => {
    const result = await run({
      name: 'platinum 1200',
      ruleSet: { tiers: { thresholds: { PLATINUM: 1200 } } },
    });
    expect(result.progress).toEqual({ done: 4, total: 4 });
    expect(result.baseline.tiers).toMatchObject({ GOLD: 1, PLATINUM: 3 });
    expect(result.candidate.tiers).toMatchObject({ GOLD: 3, PLATINUM: 1 });
    expect(result.moves).toEqual({ up: 0, down: 2, byPair: { 'PLATINUM->GOLD': 2 } });
    expect(result.baseline.vip88Eligible - result.candidate.vip88Eligible).toBe(2);
    expect(result.candidate.ruleVersion).toBe(`${result.baseline.ruleVersion}-what-if`);
    // The candidate as validated: the overlay merged over the rules in force, ready to adopt.
    expect(result.candidateRuleSet).toMatchObject({
      version: result.candidate.ruleVersion,
      tiers: { thresholds: { PLATINUM: 1200 } },
    });
    expect(result.candidateRuleSet.tiers.thresholds.GOLD).toBeGreaterThan(0);
    expect(result.samples.map((s: { memberId: string }) => s.memberId).sort()).toEqual(
      [justPlatinum, platinum].sort(),
    );
    expect(result.samples).toContainEqual({
      memberId: justPlatinum,
      before: { score: 1007, tier: 'PLATINUM' },
      after: { score: 1007, tier: 'GOLD' },
    });
    // Platinum's monthly travel coupon is held by 3 members, then 1; costed at its face value.
    const coupon = DEFAULT_CATALOGUE.benefits.find((b) => b.id === 'fliggy-monthly-travel-coupon');
    const face = coupon?.fulfilment.type === 'coupon' ? coupon.fulfilment.amountOffFen : Number.NaN;
    expect(result.baseline.benefits['fliggy-monthly-travel-coupon']).toBe(3);
    expect(result.liability['fliggy-monthly-travel-coupon']).toEqual({
      before: 3 * face,
      after: face,
      unitCost: face,
      unit: 'fen',
    });
    expect(result.liability['eleme-free-delivery']).toEqual({ before: 3, after: 1, unit: 'grants' });
  });

  it('when the rule set is the one in force, then no member moves, both sides are the same, and each tier is the one the live score supports', async () => {
    const result = await run({ name: 'no-op', ruleSet: {} });
    expect(result.moves).toEqual({ up: 0, down: 0, byPair: {} });
    expect(result.candidate.tiers).toEqual(result.baseline.tiers);
    expect(result.candidate.benefits).toEqual(result.baseline.benefits);
    expect(result.samples).toEqual([]);
    for (const [memberId, score] of [
      [gold, 906],
      [justPlatinum, 1007],
      [platinum, 1108],
      [highPlatinum, 1209],
    ] as const) {
      const live = await service.app.inject({ url: `/v1/members/${memberId}/score`, headers: READ });
      expect(live.json().score).toBe(score);
    }
    expect(result.baseline.tiers).toEqual({
      BRONZE: 0,
      SILVER: 0,
      GOLD: 1,
      PLATINUM: 3,
      DIAMOND: 0,
      BLACK_DIAMOND: 0,
    });
  });

  it('when a rule set or catalogue is invalid, then 400 names each bad field and nothing is stored', async () => {
    const before = (await service.app.inject({ url: '/v1/admin/backtests', headers: ADMIN })).json();
    const response = await post(service.app, {
      ruleSet: {
        tiers: { thresholds: { PLATINUM: 600 }, downgrade: 'never' },
        evaluation: { dayOfMonth: 31 },
        score: { sources: { food: { monthlyCap: -1 } } },
        colour: 'red',
      },
      catalogue: { version: 'x' },
      asOf: '2099-01-01T00:00:00Z',
    });
    expect(response.statusCode).toBe(400);
    const fields = response.json().error.fields.map((f: { field: string }) => f.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'name',
        'asOf',
        'ruleSet.tiers.thresholds',
        'ruleSet.tiers.downgrade',
        'ruleSet.evaluation.dayOfMonth',
        'ruleSet.score.sources.food.monthlyCap',
        'ruleSet.colour',
        'catalogue.version',
        'catalogue.benefits',
      ]),
    );
    expect(response.json().error.code).toBe('VALIDATION_FAILED');
    const after = (await service.app.inject({ url: '/v1/admin/backtests', headers: ADMIN })).json();
    expect(after.backtests).toEqual(before.backtests);
    expect((await read(service.app, 'not-a-uuid')).statusCode).toBe(400);
    expect((await read(service.app, '00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    expect([401, 403]).toContain(
      (await service.app.inject({ url: '/v1/admin/backtests', headers: READ })).statusCode,
    );
  });

  it('when the service stops during a backtest, then the next start resumes it from where it was and reaches the same result', async () => {
    const payload = { name: 'resumed', ruleSet: { tiers: { thresholds: { PLATINUM: 1100 } } } };
    const reference = await run(payload);

    // A second instance that holds its backtest after the first page, until the test lets it go.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let firstPage: (done: number) => void = () => {};
    const pageSaved = new Promise<number>((resolve) => {
      firstPage = resolve;
    });
    const first = await startScoring(stage, {
      afterBacktestPage: async (_id, done) => {
        firstPage(done);
        await held;
      },
    });
    const response = await post(first.app, payload);
    expect(response.statusCode).toBe(202);
    const id = response.json().id as string;
    expect(await pageSaved).toBe(1);
    const midway = (await read(first.app, id)).json();
    expect(midway).toMatchObject({ status: 'running', progress: { done: 1, total: 4 } });

    const stopping = first.stop();
    release();
    await stopping;

    const pagesAfterResume: number[] = [];
    const second = await startScoring(stage, {
      afterBacktestPage: async (_id, done) => {
        pagesAfterResume.push(done);
      },
    });
    try {
      const resumed = await completed(second.app, id);
      expect(pagesAfterResume[0]).toBe(2);
      const { id: _a, createdAt: _b, completedAt: _c, asOf: _d, ...comparison } = resumed;
      const { id: _e, createdAt: _f, completedAt: _g, asOf: _h, ...expected } = reference;
      expect(comparison).toEqual(expected);
    } finally {
      await second.stop();
    }
  });

  it('when the instance running a backtest stalls past its lease, then another instance takes it over and the stalled one writes nothing more', async () => {
    const payload = {
      name: 'taken over',
      ruleSet: { tiers: { thresholds: { GOLD: 1000, PLATINUM: 1150 } } },
    };
    const reference = await run(payload);

    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let staller: Service | undefined = await startScoring(
      { ...stage, config: { ...stage.config, BACKTEST_LEASE_MS: 1000 } },
      { afterBacktestPage: () => held },
    );
    const rescuer = await startScoring({ ...stage, config: { ...stage.config, BACKTEST_LEASE_MS: 1000 } });
    try {
      const response = await post((staller as Service).app, payload);
      const id = response.json().id as string;
      const rescued = await completed(rescuer.app, id);
      // The staller's next save finds the lease gone: its attempt ends without touching the result.
      release();
      await (staller as Service).stop();
      staller = undefined;
      const final = (await read(rescuer.app, id)).json();
      expect(final).toEqual(rescued);
      expect(final.moves).toEqual(reference.moves);
      expect(final.candidate.tiers).toEqual(reference.candidate.tiers);
    } finally {
      release();
      await staller?.stop();
      await rescuer.stop();
    }
  });

  it('when a running backtest can no longer be resumed, then the next start marks it failed with the reason', async () => {
    const broken = (await post(service.app, { name: 'broken', ruleSet: {} })).json().id as string;
    await completed(service.app, broken);
    const exhausted = (await post(service.app, { name: 'exhausted', ruleSet: {} })).json().id as string;
    await completed(service.app, exhausted);
    // As a crash would leave them: running, lease lapsed; one with input the schema now refuses,
    // one on its last attempt.
    await stage.db.query(
      `UPDATE scoring.backtests SET status = 'running', completed_at = NULL, lease_until = now() - interval '1 minute',
         candidate_rules = CASE WHEN id = $1 THEN '{"version": 1}'::json ELSE candidate_rules END,
         attempts = CASE WHEN id = $2 THEN 3 ELSE attempts END,
         error = CASE WHEN id = $2 THEN 'Postgres went away' ELSE error END
       WHERE id IN ($1, $2)`,
      [broken, exhausted],
    );
    const restarted = await startScoring(stage);
    try {
      const failed = async (id: string) =>
        waitFor(
          async () => {
            const body = (await read(restarted.app, id)).json();
            return body.status === 'failed' ? body : undefined;
          },
          { timeoutMs: 20_000, description: `backtest ${id} to fail` },
        );
      expect((await failed(broken)).error).toMatch(/no longer validates: invalid rule set: version/);
      expect((await failed(exhausted)).error).toMatch(
        /gave up after 3 attempts; the last ended with: Postgres went away/,
      );
      const listed = (await restarted.app.inject({ url: '/v1/admin/backtests', headers: ADMIN })).json();
      expect(listed.backtests.find((b: { id: string }) => b.id === broken)).toMatchObject({
        name: 'broken',
        status: 'failed',
      });
    } finally {
      await restarted.stop();
    }
  });
});
