import { createRedis, createVersionedStore, type Redis } from '@taobi/platform';
import { RedisServer, testLogger, uniqueId, waitFor } from '@taobi/tests';
import { read, scoreChanged, sendScoreChanges, startTier, tierSuite, waitUntilSettled } from './harness';

const TTL_MS = 4000;

describe('the tier read model when Redis is stopped during writes', () => {
  let redis: RedisServer;
  let direct: Redis;

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  const tier = tierSuite({ env: () => ({ REDIS_URL: redis.url, READ_MODEL_TTL_MS: String(TTL_MS) }) });
  beforeAll(() => {
    direct = createRedis({
      url: redis.url,
      keyPrefix: tier.environment.config.REDIS_KEY_PREFIX,
      logger: testLogger(),
    });
  });

  afterAll(async () => {
    direct?.disconnect();
    await redis?.close();
  });

  const tierOf = async (memberId: string) =>
    (await tier.service.app.inject({ url: `/v1/members/${memberId}/tier`, headers: read })).json().tier;

  it('when the service restarts while Redis is down and Redis comes back with the old entry, then reads return the committed tier within the TTL', async () => {
    const member = uniqueId('m');
    const entries = createVersionedStore<{ tier: string }>(direct, 'tier:member', { ttlMs: TTL_MS });
    await sendScoreChanges(tier.environment, [scoreChanged(member, 1, 720)]);
    await waitUntilSettled(tier.environment);
    await waitFor(async () => (await entries.read(member))?.value.tier === 'GOLD', {
      description: 'GOLD in Redis',
    });

    // Redis stops with GOLD in its snapshot; the upgrade reaches Postgres only, and the service
    // that missed the write is replaced before Redis is back (nothing remembers the miss).
    await redis.stop({ keep: true });
    await sendScoreChanges(tier.environment, [scoreChanged(member, 2, 1100)]);
    await waitUntilSettled(tier.environment);
    expect(await tierOf(member)).toBe('PLATINUM');
    await tier.service.stop();
    tier.service = await startTier(tier.environment);

    await redis.start();
    const back = Date.now();
    // No read before the client is connected again: one answered from Postgres meanwhile would
    // itself be a missed write, which this instance would remember.
    await waitFor(
      async () =>
        (await tier.service.app.inject({ url: '/readyz' })).json().checks.redis === 'ok' ? true : undefined,
      { description: 'the service to reach Redis again' },
    );
    await waitFor(async () => (await tierOf(member)) === 'PLATINUM', {
      timeoutMs: TTL_MS + 3000,
      description: 'the committed tier after Redis came back',
    });
    expect(Date.now() - back).toBeLessThan(TTL_MS + 3000);
    // The next read from Postgres writes the entry again.
    await waitFor(
      async () =>
        (await tierOf(member)) === 'PLATINUM' && (await entries.read(member))?.value.tier === 'PLATINUM',
      {
        description: 'PLATINUM in Redis',
      },
    );
  });
});
