import { createRedis, createVersionedStore } from '@taobi/platform';
import { metricValue, TcpProxy, testEndpoints, testLogger, uniqueId, waitFor } from '@taobi/tests';
import { admin, read, scoreChanged, sendScoreChanges, tierSuite, waitUntilSettled } from './harness';

describe('the read API', () => {
  /** The service reaches Redis through this proxy, so a test can take Redis away from it. */
  let redisProxy: TcpProxy;

  beforeAll(async () => {
    const redis = new URL(testEndpoints().redisUrl);
    redisProxy = await TcpProxy.create({ host: redis.hostname, port: Number(redis.port || 6379) });
    await redisProxy.open();
  });
  const tier = tierSuite({ env: () => ({ REDIS_URL: `redis://127.0.0.1:${redisProxy.port}` }) });
  afterAll(async () => {
    await redisProxy?.close();
  });

  const get = (url: string, headers: Record<string, string> = read) =>
    tier.service.app.inject({ url, headers });

  it('when the tier table is asked for, then it lists the six tiers with their thresholds, the policy and the next evaluation', async () => {
    const response = await get('/v1/tiers');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      ruleVersion: '2026.1',
      tiers: [
        { tier: 'BRONZE', rank: 0, threshold: 0 },
        { tier: 'SILVER', rank: 1, threshold: 400 },
        { tier: 'GOLD', rank: 2, threshold: 700 },
        { tier: 'PLATINUM', rank: 3, threshold: 1000 },
        { tier: 'DIAMOND', rank: 4, threshold: 2500 },
        { tier: 'BLACK_DIAMOND', rank: 5, threshold: 5000 },
      ],
      downgrade: 'to-supported-tier',
      clawbackDays: 30,
      evaluation: {
        dayOfMonth: 8,
        timeZone: 'Asia/Shanghai',
        nextAt: expect.stringMatching(/T16:00:00.000Z$/),
      },
    });
  });

  it('when there is no key or an unknown one, then the read API answers 401; the admin key, 403', async () => {
    for (const url of ['/v1/tiers', '/v1/tiers/distribution', '/v1/members/m-1/tier']) {
      expect((await get(url, {})).statusCode).toBe(401);
      expect((await get(url, admin)).statusCode).toBe(403);
      expect((await get(url, { authorization: 'Bearer not-a-key-at-all' })).statusCode).toBe(401);
    }
  });

  it('when a member was never seen, then they are Bronze at the base score, 100 points from Silver', async () => {
    const response = await get(`/v1/members/${uniqueId('m')}/tier`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      tier: 'BRONZE',
      score: 300,
      since: null,
      next: { tier: 'SILVER', threshold: 400, pointsNeeded: 100 },
      downgradePending: false,
      keep: { tier: 'BRONZE', threshold: 0, pointsNeeded: 0, evaluationAt: expect.any(String) },
      scoreVersion: 0,
    });
  });

  it('when the member id is not a valid id, then 400 names the field', async () => {
    const response = await get(`/v1/members/${'x'.repeat(65)}/tier`);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      error: {
        code: 'VALIDATION_FAILED',
        message: expect.any(String),
        fields: [expect.objectContaining({ field: 'id' })],
      },
    });
    expect((await get('/v1/members/bad%20id/tier')).statusCode).toBe(400);
  });

  it('when a Gold member has points expiring at the next evaluation, then the view says what they must keep', async () => {
    const member = uniqueId('m');
    await sendScoreChanges(tier.environment, [scoreChanged(member, 1, 760, { expiring: 100 })]);
    await waitUntilSettled(tier.environment);
    expect((await get(`/v1/members/${member}/tier`)).json()).toMatchObject({
      memberId: member,
      tier: 'GOLD',
      score: 760,
      since: expect.any(String),
      next: { tier: 'PLATINUM', threshold: 1000, pointsNeeded: 240 },
      downgradePending: false,
      keep: { tier: 'GOLD', threshold: 700, expiringPoints: 100, forecastScore: 660, pointsNeeded: 40 },
    });
  });

  it('when members hold different tiers, then the distribution counts each tier', async () => {
    const before = (await get('/v1/tiers/distribution')).json();
    const scores = [410, 420, 750, 1200, 300];
    await sendScoreChanges(
      tier.environment,
      scores.map((score) => scoreChanged(uniqueId('m'), 1, score)),
    );
    await waitUntilSettled(tier.environment);
    const after = (await get('/v1/tiers/distribution')).json();
    const delta = Object.fromEntries(
      after.tiers.map((row: { tier: string; members: number }, i: number) => [
        row.tier,
        row.members - before.tiers[i].members,
      ]),
    );
    expect(delta).toEqual({ BRONZE: 1, SILVER: 2, GOLD: 1, PLATINUM: 1, DIAMOND: 0, BLACK_DIAMOND: 0 });
    expect(after.total - before.total).toBe(5);
  });

  it('when Redis is unreachable, then tiers are answered from Postgres, /readyz says so, and Redis is resynced when it is back', async () => {
    const member = uniqueId('m');
    await sendScoreChanges(tier.environment, [scoreChanged(member, 1, 720)]);
    await waitUntilSettled(tier.environment);
    const direct = createRedis({
      url: testEndpoints().redisUrl,
      keyPrefix: tier.environment.config.REDIS_KEY_PREFIX,
      logger: testLogger(),
    });
    const store = createVersionedStore<{ tier: string; score: number }>(direct, 'tier:member', {
      ttlMs: 60_000,
    });
    try {
      expect((await store.read(member))?.value.tier).toBe('GOLD');
      const readsBefore =
        metricValue((await get('/metrics')).body, 'taobi_tier_member_reads_total', { source: 'postgres' }) ??
        0;

      await redisProxy.close();
      await waitFor(async () => (await get('/readyz')).statusCode === 503, {
        description: '/readyz to see Redis gone',
      });
      expect((await get('/readyz')).json().checks.redis).toMatch(/^unavailable/);
      const during = await get(`/v1/members/${member}/tier`);
      expect(during.statusCode).toBe(200);
      expect(during.json()).toMatchObject({ tier: 'GOLD', score: 720 });
      const readsAfter = metricValue((await get('/metrics')).body, 'taobi_tier_member_reads_total', {
        source: 'postgres',
      });
      expect(readsAfter).toBe(readsBefore + 1);

      // A change while Redis is away reaches Postgres only...
      await sendScoreChanges(tier.environment, [scoreChanged(member, 2, 1100)]);
      await tier.environment.tierChanges.waitForCount(2, (r) => r.key === member);
      expect((await get(`/v1/members/${member}/tier`)).json().tier).toBe('PLATINUM');
      expect((await store.read(member))?.value.tier).toBe('GOLD');

      // ...and is written to Redis once it is back.
      await redisProxy.open();
      await waitFor(async () => (await store.read(member))?.value.tier === 'PLATINUM', {
        timeoutMs: 30_000,
        description: 'Redis to be resynced',
      });
      expect((await store.read(member))?.value).toMatchObject({ score: 1100, scoreVersion: 2 });
      expect(
        metricValue((await get('/metrics')).body, 'taobi_read_model_repairs_total', {
          model: 'tier:member',
          trigger: 'resync',
        }),
      ).toBeGreaterThanOrEqual(1);
    } finally {
      direct.disconnect();
      await redisProxy.open();
    }
  });
});
