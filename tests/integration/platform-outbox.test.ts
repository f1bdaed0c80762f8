import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TopicNames } from '@taobi/contracts';
import {
  connectProducer,
  createOutboxRelay,
  createPool,
  createProducerHandle,
  createRedis,
  createVersionedStore,
  enqueueOutbox,
  migrate,
  type Pool,
  type Producer,
  withTransaction,
} from '@taobi/platform';
import {
  createTestDatabase,
  createTestTopics,
  TopicReader,
  testEndpoints,
  testKafka,
  testLogger,
  uniqueId,
  waitFor,
} from '../support';

const OUTBOX_SQL = `-- Up Migration
CREATE TABLE relaytest.outbox (
  id bigserial PRIMARY KEY,
  event_id text NOT NULL UNIQUE,
  topic text NOT NULL,
  message_key text,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
CREATE INDEX outbox_unpublished ON relaytest.outbox (id) WHERE published_at IS NULL;
`;

describe('the transactional outbox and its relay', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: Pool;
  let producer: Producer;
  let topics: TopicNames;
  const kafka = testKafka();

  beforeAll(async () => {
    database = await createTestDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'taobi-outbox-'));
    writeFileSync(join(dir, '1700000000000_outbox.sql'), OUTBOX_SQL);
    await migrate({ databaseUrl: database.url, schema: 'relaytest', dir, logger: testLogger() });
    pool = createPool({ connectionString: database.url, logger: testLogger(), applicationName: 'test' });
    ({ topics } = await createTestTopics(kafka));
    producer = await connectProducer(kafka);
  });

  afterAll(async () => {
    await producer.disconnect();
    await pool.end();
    await database.drop();
  });

  it('when a transaction commits, its records are published once in order; when it rolls back, nothing is', async () => {
    const member = uniqueId('m');
    const reader = await TopicReader.start<{ n: number }>(topics.scoreChanged, kafka);
    const relay = createOutboxRelay({
      pool,
      schema: 'relaytest',
      producer: createProducerHandle(async () => producer),
      topics,
      logger: testLogger(),
      pollIntervalMs: 50,
    });
    relay.start();
    try {
      const record = (n: number) => ({
        eventId: `${member}:${n}`,
        topic: 'scoreChanged' as const,
        key: member,
        payload: { n },
      });
      await withTransaction(pool, (client) => enqueueOutbox(client, 'relaytest', [record(1), record(2)]));
      await expect(
        withTransaction(pool, async (client) => {
          await enqueueOutbox(client, 'relaytest', [record(99)]);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      // The same eventId enqueued again (a redelivered input) is not a second record.
      await withTransaction(pool, (client) => enqueueOutbox(client, 'relaytest', [record(2), record(3)]));
      relay.wake();

      const records = await reader.waitForCount(3, (r) => r.key === member);
      await relay.drain();
      expect(records.map((r) => r.value.n)).toEqual([1, 2, 3]);
      expect(reader.matching((r) => r.key === member)).toHaveLength(3);
      const pending = await pool.query(
        'SELECT count(*)::int AS n FROM relaytest.outbox WHERE published_at IS NULL',
      );
      expect(pending.rows[0].n).toBe(0);
    } finally {
      await relay.stop();
      await reader.close();
    }
  });
});

describe('the outbox relay with large records', () => {
  it('when the pending records exceed what the broker takes in one batch, then they go out in several, in order', async () => {
    const database = await createTestDatabase();
    const kafka = testKafka();
    const dir = mkdtempSync(join(tmpdir(), 'taobi-outbox-'));
    writeFileSync(join(dir, '1700000000000_outbox.sql'), OUTBOX_SQL);
    await migrate({ databaseUrl: database.url, schema: 'relaytest', dir, logger: testLogger() });
    const pool = createPool({
      connectionString: database.url,
      logger: testLogger(),
      applicationName: 'test',
    });
    const { topics } = await createTestTopics(kafka);
    const producer = createProducerHandle(() => connectProducer(kafka));
    const reader = await TopicReader.start<{ n: number }>(topics.scoreChanged, kafka);
    const relay = createOutboxRelay({ pool, schema: 'relaytest', producer, topics, logger: testLogger() });
    try {
      // 60 records of ~50 KB for one member (one partition): 3 MB, three times the broker's 1 MB limit.
      const member = uniqueId('m');
      const padding = 'x'.repeat(50_000);
      await withTransaction(pool, (client) =>
        enqueueOutbox(
          client,
          'relaytest',
          Array.from({ length: 60 }, (_, n) => ({
            eventId: `${member}:${n}`,
            topic: 'scoreChanged' as const,
            key: member,
            payload: { n, padding },
          })),
        ),
      );
      await relay.drain();
      const records = await reader.waitForCount(60, (r) => r.key === member);
      expect(records.map((r) => r.value.n)).toEqual(Array.from({ length: 60 }, (_, n) => n));
    } finally {
      await relay.stop();
      await reader.close();
      await producer.close();
      await pool.end();
      await database.drop();
    }
  });
});

describe('the versioned Redis read model', () => {
  it('when an entry is written, then it expires after the TTL, and a refused older write does not keep it alive', async () => {
    const redis = createRedis({
      url: testEndpoints().redisUrl,
      keyPrefix: `${uniqueId('t')}:`,
      logger: testLogger(),
    });
    const store = createVersionedStore<{ score: number }>(redis, 'score', { ttlMs: 1000 });
    try {
      await store.writeIfNewer([{ id: 'm-1', version: 2, value: { score: 500 } }]);
      const ttl = await redis.pttl('score:m-1');
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(1000);
      expect(await store.writeIfNewer([{ id: 'm-1', version: 1, value: { score: 400 } }])).toBe(0);
      expect(await redis.pttl('score:m-1')).toBeLessThanOrEqual(ttl);
      await waitFor(async () => (await store.read('m-1')) === undefined, {
        timeoutMs: 5000,
        description: 'the entry to expire',
      });
    } finally {
      redis.disconnect();
    }
  });

  it('when an older version arrives after a newer one, then the newer value stays', async () => {
    const redis = createRedis({
      url: testEndpoints().redisUrl,
      keyPrefix: `${uniqueId('t')}:`,
      logger: testLogger(),
    });
    const store = createVersionedStore<{ score: number }>(redis, 'score', { ttlMs: 60_000 });
    try {
      await store.writeIfNewer([{ id: 'm-1', version: 2, value: { score: 500 } }]);
      await store.writeIfNewer([
        { id: 'm-1', version: 1, value: { score: 400 } },
        { id: 'm-1', version: 2, value: { score: 450 } },
        { id: 'm-2', version: 1, value: { score: 300 } },
      ]);
      expect(await store.read('m-1')).toEqual({ id: 'm-1', version: 2, value: { score: 500 } });
      expect(await store.read('m-2')).toEqual({ id: 'm-2', version: 1, value: { score: 300 } });
      await store.writeIfNewer([{ id: 'm-1', version: 3, value: { score: 700 } }]);
      expect((await store.read('m-1'))?.value).toEqual({ score: 700 });
      expect(await store.read('m-3')).toBeUndefined();
      await waitFor(async () => (await redis.ping()) === 'PONG');
    } finally {
      redis.disconnect();
    }
  });
});
