import { createRedis, createVersionedStore, type Redis } from '@taobi/platform';
import { RedisServer, testLogger, uniqueId, waitFor } from '@taobi/tests';
import type { TierService } from '../src/app';
import {
  createTierEnvironment,
  read,
  scoreChanged,
  sendScoreChanges,
  startTier,
  type TierEnvironment,
  waitUntilSettled,
} from './harness';

const TTL_MS = 4000;

describe('the tier read model when Redis is stopped during writes', () => {
  let redis: RedisServer;
  let environment: TierEnvironment;
  let service: TierService;
  let direct: Redis;

  beforeAll(async () => {
    redis = await RedisServer.start();
    environment = await createTierEnvironment({ REDIS_URL: redis.url, READ_MODEL_TTL_MS: String(TTL_MS) });
    service = await startTier(environment);
    direct = createRedis({
      url: redis.url,
      keyPrefix: environment.config.REDIS_KEY_PREFIX,
      logger: testLogger(),
    });
  });

  afterAll(async () => {
    direct?.disconnect();
    await service?.stop();
    await environment?.close();
    await redis?.close();
  });

  const tierOf = async (memberId: string) =>
    (await service.app.inject({ url: `/v1/members/${memberId}/tier`, headers: read })).json().tier;

  it('when the service restarts while Redis is down and Redis comes back with the old entry, then reads return the committed tier within the TTL', async () => {
    const member = uniqueId('m');
    const entries = createVersionedStore<{ tier: string }>(direct, 'tier:member', { ttlMs: TTL_MS });
    await sendScoreChanges(environment, [scoreChanged(member, 1, 720)]);
    await waitUntilSettled(environment);
    await waitFor(async () => (await entries.read(member))?.value.tier === 'GOLD', {
      description: 'GOLD in Redis',
    });

    // Redis stops with GOLD in its snapshot; the upgrade reaches Postgres only, and the service
    // that missed the write is replaced before Redis is back (nothing remembers the miss).
    await redis.stop({ keep: true });
    await sendScoreChanges(environment, [scoreChanged(member, 2, 1100)]);
    await waitUntilSettled(environment);
    expect(await tierOf(member)).toBe('PLATINUM');
    await service.stop();
    service = await startTier(environment);

    await redis.start();
    const back = Date.now();
    // No read before the client is connected again: one answered from Postgres meanwhile would
    // itself be a missed write, which this instance would remember.
    await waitFor(
      async () =>
        (await service.app.inject({ url: '/readyz' })).json().checks.redis === 'ok' ? true : undefined,
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
