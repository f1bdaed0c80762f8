import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TopicNames } from '@taobi/contracts';
import {
  connectProducer,
  createMetricsRegistry,
  createOutboxRelay,
  createPool,
  createProducerHandle,
  createRedis,
  createVersionedStore,
  enqueueOutbox,
  migrate,
  type OutboxRecord,
  type OutboxRelayOptions,
  type Pool,
  type Producer,
  type ProducerHandle,
  withTransaction,
} from '@taobi/platform';
import { outboxSql } from '@taobi/platform/outbox-migrations';
import {
  createTestDatabase,
  createTestTopics,
  EphemeralBroker,
  metricValue,
  TopicReader,
  testEndpoints,
  testKafka,
  testLogger,
  uniqueId,
  waitFor,
} from '../support';

/** A fresh database with the relay's tables in schema `relaytest`, and a pool on it. */
async function outboxDatabase(applicationName = 'test') {
  const database = await createTestDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'taobi-outbox-'));
  writeFileSync(join(dir, '1700000000000_outbox.sql'), `-- Up Migration\n${outboxSql('relaytest')}`);
  await migrate({ databaseUrl: database.url, schema: 'relaytest', dir, logger: testLogger() });
  const pool = createPool({ connectionString: database.url, logger: testLogger(), applicationName });
  return {
    database,
    pool,
    async close() {
      await pool.end();
      await database.drop();
    },
  };
}

const numbered = (member: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => ({
    eventId: `${member}:${from + i}`,
    topic: 'scoreChanged' as const,
    key: member,
    payload: { n: from + i },
  }));

describe('the transactional outbox and its relay', () => {
  let database: Awaited<ReturnType<typeof outboxDatabase>>;
  let pool: Pool;
  let producer: Producer;
  let topics: TopicNames;
  const kafka = testKafka();

  beforeAll(async () => {
    database = await outboxDatabase();
    pool = database.pool;
    ({ topics } = await createTestTopics(kafka));
    producer = await connectProducer(kafka);
  });

  afterAll(async () => {
    await producer.disconnect();
    await database.close();
  });

  const relayOf = (options: Partial<OutboxRelayOptions>) =>
    createOutboxRelay({
      pool,
      kafka,
      schema: 'relaytest',
      producer: createProducerHandle(async () => producer),
      topics,
      logger: testLogger(),
      ...options,
    });

  it('when a transaction commits, its records are published once in order; when it rolls back, nothing is', async () => {
    const member = uniqueId('m');
    const reader = await TopicReader.start<{ n: number }>(topics.scoreChanged, kafka);
    const relay = relayOf({ pollIntervalMs: 50 });
    relay.start();
    try {
      const record = (n: number) => numbered(member, n, n)[0] as OutboxRecord;
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

  it('when the after-publish step of a batch is slow, then the next batch is read and sent meanwhile, and drain waits for both steps', async () => {
    const member = uniqueId('m');
    const reader = await TopicReader.start<{ n: number }>(topics.scoreChanged, kafka);
    let releaseFirst: () => void = () => undefined;
    const firstHeld = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    const after: number[][] = [];
    const relay = relayOf({
      batchSize: 1,
      listen: false,
      afterPublish: async (records) => {
        const batch = records.map((r) => (r.payload as { n: number }).n);
        // The first batch's step finishes only once the second batch is on the topic.
        if (batch[0] === 1) await firstHeld;
        after.push(batch);
      },
    });
    try {
      await withTransaction(pool, (client) => enqueueOutbox(client, 'relaytest', numbered(member, 1, 2)));
      const drained = relay.drain();
      await reader.waitForCount(2, (r) => r.key === member);
      releaseFirst();
      await drained;
      expect(after).toEqual([[1], [2]]);
    } finally {
      releaseFirst();
      await relay.stop();
      await reader.close();
    }
  });
});

describe('the outbox relay when a send is in doubt', () => {
  /** A producer whose sends reach Kafka but whose first `failing` acknowledgements are lost. */
  function ackLosingProducer(kafka: ReturnType<typeof testKafka>, failing: number) {
    const producer = createProducerHandle(() => connectProducer(kafka));
    let sends = 0;
    const handle: ProducerHandle = {
      ...producer,
      async publish(records) {
        sends += 1;
        const sent = await producer.publish(records);
        if (failing > 0) {
          failing -= 1;
          throw new Error('the acknowledgement was lost');
        }
        return sent;
      },
    };
    return { handle, sends: () => sends, close: () => producer.close() };
  }

  it('when a send reached the topic but its acknowledgement was lost, then the relay finds its records there and does not send them again', async () => {
    const { pool, close } = await outboxDatabase();
    const kafka = testKafka();
    const { topics } = await createTestTopics(kafka);
    const producer = ackLosingProducer(kafka, 1);
    const registry = createMetricsRegistry('test');
    const relay = createOutboxRelay({
      pool,
      kafka,
      schema: 'relaytest',
      producer: producer.handle,
      topics,
      logger: testLogger(),
      metrics: registry,
      pollIntervalMs: 50,
    });
    const member = uniqueId('m');
    const reader = await TopicReader.start<{ n: number }>(topics.scoreChanged, kafka);
    try {
      await withTransaction(pool, (client) => enqueueOutbox(client, 'relaytest', numbered(member, 1, 5)));
      relay.start();
      await waitFor(
        async () =>
          (await pool.query('SELECT 1 FROM relaytest.outbox WHERE published_at IS NULL')).rowCount === 0,
        { timeoutMs: 60_000, description: 'every row marked published' },
      );
      // A later record goes out as usual once the doubt is settled.
      await withTransaction(pool, (client) => enqueueOutbox(client, 'relaytest', numbered(member, 6, 6)));
      relay.wake();
      await reader.waitForCount(6, (r) => r.key === member);
      await reader.waitUntilCaughtUp();
      const records = reader.matching((r) => r.key === member);
      expect(records.map((r) => r.value.n)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(records.map((r) => r.headers['taobi-event-id'])).toEqual(
        numbered(member, 1, 6).map((r) => r.eventId),
      );
      expect(producer.sends()).toBe(2);
      const text = await registry.metrics();
      expect(metricValue(text, 'taobi_outbox_recovered_total', { topic: 'scoreChanged' })).toBe(5);
      expect(metricValue(text, 'taobi_outbox_published_total', { topic: 'scoreChanged' })).toBe(1);
    } finally {
      await relay.stop();
      await reader.close();
      await producer.close();
      await close();
    }
  });

  it('when a relay crashed after sending and before marking, then the relay taking over sends only what is not on the topic', async () => {
    const { pool, close } = await outboxDatabase();
    const kafka = testKafka();
    const { topics } = await createTestTopics(kafka);
    const producer = createProducerHandle(() => connectProducer(kafka));
    const member = uniqueId('m');
    const reader = await TopicReader.start<{ n: number }>(topics.scoreChanged, kafka);
    const relay = createOutboxRelay({
      pool,
      kafka,
      schema: 'relaytest',
      producer,
      topics,
      logger: testLogger(),
      pollIntervalMs: 50,
    });
    try {
      await withTransaction(pool, (client) => enqueueOutbox(client, 'relaytest', numbered(member, 1, 5)));
      // The crashed relay had sent rows 1-3 (with their eventId header) and holds a lease about to lapse.
      await pool.query(
        "INSERT INTO relaytest.outbox_lease (holder, expires_at) VALUES ('crashed-relay', now() + interval '1 second')",
      );
      await producer.publish(
        numbered(member, 1, 3).map((r) => ({
          topic: topics.scoreChanged,
          key: member,
          value: r.payload,
          headers: { 'taobi-event-id': r.eventId },
        })),
      );
      relay.start();
      await reader.waitForCount(5, (r) => r.key === member);
      await waitFor(
        async () =>
          (await pool.query('SELECT 1 FROM relaytest.outbox WHERE published_at IS NULL')).rowCount === 0,
        { description: 'every row marked published' },
      );
      await reader.waitUntilCaughtUp();
      expect(reader.matching((r) => r.key === member).map((r) => r.value.n)).toEqual([1, 2, 3, 4, 5]);
    } finally {
      await relay.stop();
      await reader.close();
      await producer.close();
      await close();
    }
  });
});

describe('the outbox relay woken on commit', () => {
  // Far longer than the deadlines below: a relay that waited for its poll would fail them.
  const POLL_MS = 120_000;
  const DEADLINE_MS = 10_000;

  /** A relay on a fresh database, idle after publishing a first record, and what a test needs. */
  async function idleRelay(options: { listen: boolean }) {
    const database = await outboxDatabase('relay-wake');
    const kafka = testKafka();
    const { topics } = await createTestTopics(kafka);
    const producer = createProducerHandle(() => connectProducer(kafka));
    const reader = await TopicReader.start<{ n: number }>(topics.scoreChanged, kafka);
    const relay = createOutboxRelay({
      pool: database.pool,
      kafka,
      schema: 'relaytest',
      producer,
      topics,
      logger: testLogger(),
      pollIntervalMs: POLL_MS,
      listen: options.listen,
    });
    const member = uniqueId('m');
    const enqueue = (n: number) =>
      withTransaction(database.pool, (client) => enqueueOutbox(client, 'relaytest', numbered(member, n, n)));
    const published = (n: number) => reader.waitForCount(n, (r) => r.key === member, DEADLINE_MS);
    relay.start();
    // The first record, woken in-process; once it is marked, the relay rests for POLL_MS.
    await enqueue(1);
    relay.wake();
    await published(1);
    await waitFor(
      async () =>
        (await database.pool.query('SELECT 1 FROM relaytest.outbox WHERE published_at IS NULL')).rowCount ===
        0,
      { description: 'the first record marked published' },
    );
    return {
      relay,
      pool: database.pool,
      enqueue,
      published,
      async close() {
        await relay.stop();
        await reader.close();
        await producer.close();
        await database.close();
      },
    };
  }

  /** The pid of the session listening on the relay's channel (pg_stat_activity shows its last statement). */
  async function listeningPid(pool: Pool): Promise<number | undefined> {
    const { rows } = await pool.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity
       WHERE datname = current_database() AND query = 'LISTEN relaytest_outbox' AND state = 'idle'`,
    );
    return rows[0]?.pid;
  }

  it('when another process commits a record, then the idle relay publishes it through the notification, not its poll', async () => {
    const subject = await idleRelay({ listen: true });
    try {
      // Written by another connection, with no wake() in this process.
      await subject.enqueue(2);
      const records = await subject.published(2);
      expect(records.map((r) => r.value.n)).toEqual([1, 2]);
    } finally {
      await subject.close();
    }
  });

  it('when the listening connection is killed, then it listens again and a later commit still wakes the relay', async () => {
    const subject = await idleRelay({ listen: true });
    try {
      const before = await waitFor(() => listeningPid(subject.pool), { description: 'a listening session' });
      await subject.pool.query('SELECT pg_terminate_backend($1)', [before]);
      await waitFor(
        async () => {
          const pid = await listeningPid(subject.pool);
          return pid !== undefined && pid !== before;
        },
        { description: 'a new listening session', timeoutMs: DEADLINE_MS },
      );
      await subject.enqueue(2);
      expect((await subject.published(2)).map((r) => r.value.n)).toEqual([1, 2]);
    } finally {
      await subject.close();
    }
  });

  it('when the process that committed wakes its relay, then it publishes without listening or polling', async () => {
    const subject = await idleRelay({ listen: false });
    try {
      await subject.enqueue(2);
      subject.relay.wake();
      expect((await subject.published(2)).map((r) => r.value.n)).toEqual([1, 2]);
    } finally {
      await subject.close();
    }
  });
});

describe('the outbox backlog metrics', () => {
  it('when records wait in the outbox, then the gauges say how many and how old the oldest is; once published, 0 and 0', async () => {
    const database = await outboxDatabase();
    const kafka = testKafka();
    const { topics } = await createTestTopics(kafka);
    const producer = await connectProducer(kafka);
    const registry = createMetricsRegistry('test');
    const relay = createOutboxRelay({
      pool: database.pool,
      kafka,
      schema: 'relaytest',
      producer: createProducerHandle(async () => producer),
      topics,
      logger: testLogger(),
      metrics: registry,
    });
    try {
      const member = uniqueId('m');
      await withTransaction(database.pool, (client) =>
        enqueueOutbox(client, 'relaytest', numbered(member, 1, 3)),
      );
      // As if committed 90 s ago and stuck since (the relay is not started).
      await database.pool.query("UPDATE relaytest.outbox SET created_at = now() - interval '90 seconds'");
      let text = await registry.metrics();
      expect(metricValue(text, 'taobi_outbox_pending_records')).toBe(3);
      expect(metricValue(text, 'taobi_outbox_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(90);

      await relay.drain();
      text = await registry.metrics();
      expect(metricValue(text, 'taobi_outbox_pending_records')).toBe(0);
      expect(metricValue(text, 'taobi_outbox_oldest_pending_age_seconds')).toBe(0);
      expect(metricValue(text, 'taobi_outbox_published_total', { topic: 'scoreChanged' })).toBe(3);
    } finally {
      await relay.stop();
      await producer.disconnect();
      await database.close();
    }
  });
});

describe('the outbox relay with large records', () => {
  it('when the pending records exceed what the broker takes in one batch, then they go out in several, in order', async () => {
    const { pool, close } = await outboxDatabase();
    const kafka = testKafka();
    const { topics } = await createTestTopics(kafka);
    const producer = createProducerHandle(() => connectProducer(kafka));
    const reader = await TopicReader.start<{ n: number }>(topics.scoreChanged, kafka);
    const relay = createOutboxRelay({
      pool,
      kafka,
      schema: 'relaytest',
      producer,
      topics,
      logger: testLogger(),
    });
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
      await close();
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

describe('the outbox relay when Kafka is slow or a relay crashed', () => {
  let broker: EphemeralBroker;

  beforeAll(async () => {
    broker = await EphemeralBroker.create();
    await broker.start();
  }, 120_000);

  afterAll(async () => {
    await broker?.destroy();
  }, 120_000);

  it('when the broker freezes during a send, then no transaction or pool connection is held, writers go on, and the lease is kept', async () => {
    const { database, pool, close } = await outboxDatabase('relay-under-test');
    const kafka = testKafka(broker.brokers);
    const { topics } = await createTestTopics(kafka);
    const producer = createProducerHandle(() => connectProducer(kafka));
    await producer.get();
    let sends = 0;
    const watched: ProducerHandle = {
      ...producer,
      publish: (records) => {
        sends += 1;
        return producer.publish(records);
      },
    };
    const leaseMs = 1500;
    const relay = createOutboxRelay({
      pool,
      kafka,
      schema: 'relaytest',
      producer: watched,
      topics,
      logger: testLogger(),
      leaseMs,
    });
    const member = uniqueId('m');
    const reader = await TopicReader.start<{ n: number }>(topics.scoreChanged, kafka);
    const observer = createPool({
      connectionString: database.url,
      logger: testLogger(),
      applicationName: 'observer',
      max: 1,
    });
    try {
      await withTransaction(pool, (client) => enqueueOutbox(client, 'relaytest', numbered(member, 1, 3)));
      await broker.pause();
      relay.start();
      await waitFor(() => sends > 0, { description: 'the relay to be sending' });

      // Kafka does not answer: the relay waits with nothing open in Postgres.
      const sessions = await observer.query<{ state: string; in_transaction: boolean }>(
        `SELECT state, xact_start IS NOT NULL AS in_transaction FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'relay-under-test'`,
      );
      expect(sessions.rows.filter((s) => s.in_transaction || s.state !== 'idle')).toEqual([]);
      expect(pool.totalCount - pool.idleCount).toBe(0);
      // Another writer of the outbox goes on.
      await withTransaction(pool, (client) => enqueueOutbox(client, 'relaytest', numbered(member, 4, 4)));
      // The lease is renewed while the send hangs, so no other relay takes over a live one.
      const lease = async () =>
        (
          await observer.query<{ holder: string; expires_at: Date }>(
            'SELECT holder, expires_at FROM relaytest.outbox_lease',
          )
        ).rows[0];
      const first = await lease();
      const renewed = await waitFor(
        async () => {
          const now = await lease();
          return now && now.expires_at.getTime() >= (first?.expires_at.getTime() ?? 0) + leaseMs
            ? now
            : undefined;
        },
        { description: 'the lease to be renewed during the send' },
      );
      expect(renewed.holder).toBe(first?.holder);
      expect(sends).toBe(1);

      broker.resume();
      const records = await reader.waitForCount(4, (r) => r.key === member, 60_000);
      expect(records.map((r) => r.value.n)).toEqual([1, 2, 3, 4]);
      await waitFor(
        async () =>
          (await observer.query('SELECT 1 FROM relaytest.outbox WHERE published_at IS NULL')).rowCount === 0,
        { description: 'every row marked published' },
      );
    } finally {
      broker.resume();
      await relay.stop();
      await reader.close();
      await producer.close();
      await observer.end();
      await close();
    }
  });

  it('when a relay crashed holding the lease, then another takes over once it lapses and publishes in order', async () => {
    const { pool, close } = await outboxDatabase();
    const kafka = testKafka(broker.brokers);
    const { topics } = await createTestTopics(kafka);
    const producer = createProducerHandle(() => connectProducer(kafka));
    const relay = createOutboxRelay({
      pool,
      kafka,
      schema: 'relaytest',
      producer,
      topics,
      logger: testLogger(),
      pollIntervalMs: 50,
    });
    const member = uniqueId('m');
    const reader = await TopicReader.start<{ n: number }>(topics.scoreChanged, kafka);
    try {
      const { rows } = await pool.query<{ expires_at: Date }>(
        `INSERT INTO relaytest.outbox_lease (holder, expires_at) VALUES ('crashed-relay', now() + interval '2 seconds')
         RETURNING expires_at`,
      );
      await withTransaction(pool, (client) => enqueueOutbox(client, 'relaytest', numbered(member, 1, 5)));
      relay.start();

      const records = await reader.waitForCount(5, (r) => r.key === member);
      expect(records.map((r) => r.value.n)).toEqual([1, 2, 3, 4, 5]);
      const published = await pool.query<{ first: Date }>(
        'SELECT min(published_at) AS first FROM relaytest.outbox',
      );
      expect(published.rows[0]?.first.getTime()).toBeGreaterThanOrEqual(
        rows[0]?.expires_at.getTime() ?? Infinity,
      );
      const lease = await pool.query<{ holder: string }>('SELECT holder FROM relaytest.outbox_lease');
      expect(lease.rows[0]?.holder).not.toBe('crashed-relay');
    } finally {
      await relay.stop();
      await reader.close();
      await producer.close();
      await close();
    }
  });
});
