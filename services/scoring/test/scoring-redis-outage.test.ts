import type { Service } from '@taobi/platform';
import { RedisServer, uniqueId, waitFor } from '@taobi/tests';
import {
  createStage,
  order,
  produce,
  READ,
  type Stage,
  startScoring,
  waitForOutboxPublished,
} from './harness';

const TTL_MS = 4000;

describe('the score read model when Redis is stopped during writes', () => {
  let redis: RedisServer;
  let stage: Stage;
  let service: Service;

  beforeAll(async () => {
    redis = await RedisServer.start();
    stage = await createStage({ REDIS_URL: redis.url, READ_MODEL_TTL_MS: String(TTL_MS) });
    service = await startScoring(stage);
  });

  afterAll(async () => {
    await service?.stop();
    await stage?.close();
    await redis?.close();
  });

  async function read(memberId: string): Promise<{ score: number; source: string }> {
    const response = await service.app.inject({ url: `/v1/members/${memberId}/score`, headers: READ });
    expect(response.statusCode).toBe(200);
    return { score: response.json().score, source: String(response.headers['x-read-source']) };
  }

  /** Waits until a read answers `score` from Redis (the entry is written and current). */
  const cached = (memberId: string, score: number, timeoutMs = 20_000) =>
    waitFor(
      async () => {
        const answer = await read(memberId);
        return answer.score === score && answer.source === 'redis' ? answer : undefined;
      },
      { timeoutMs, description: `${memberId} at ${score} from Redis` },
    );

  it('when Redis comes back from its snapshot with an entry older than Postgres, then reads return the committed score within the TTL', async () => {
    const member = uniqueId('m');
    await produce(stage, [order({ memberId: member, amount: 40_000 })]);
    await cached(member, 311);

    // Redis stops with 311 in its snapshot; the next change reaches Postgres but not Redis.
    await redis.stop({ keep: true });
    await produce(stage, [order({ memberId: member, source: 'food', amount: 5_000 })]);
    await waitFor(async () => (await read(member)).score === 313, { description: 'the change in Postgres' });
    await waitForOutboxPublished(stage);
    expect(await read(member)).toEqual({ score: 313, source: 'postgres' });

    // Back with the stale 311: reads answer 313 within the TTL, then from Redis again.
    await redis.start();
    const back = Date.now();
    await waitFor(async () => (await read(member)).score === 313, {
      timeoutMs: TTL_MS + 3000,
      description: 'the committed score after Redis came back',
    });
    expect(Date.now() - back).toBeLessThan(TTL_MS + 3000);
    await cached(member, 313);
  });

  it('when Redis restarts empty after writes it missed, then reads return the committed score and repair it', async () => {
    const member = uniqueId('m');
    await produce(stage, [order({ memberId: member, amount: 40_000 })]);
    await cached(member, 311);

    await redis.stop({ keep: false });
    await produce(stage, [order({ memberId: member, source: 'mobility', amount: 4_200 })]);
    await waitFor(async () => (await read(member)).score === 313, { description: 'the change in Postgres' });
    await waitForOutboxPublished(stage);

    await redis.start();
    await cached(member, 313);
  });
});
