import {
  createKafka,
  createMetricsRegistry,
  createPool,
  createRedis,
  createVersionedStore,
  enqueueOutbox,
  type OutboxRecord,
  type ProducerHandle,
  withTransaction,
} from '@taobi/platform';
import {
  EphemeralBroker,
  FreezableSockets,
  metricValue,
  numberedRecords,
  OUTBOX_TEST_SCHEMA,
  type OutboxRelayBed,
  startOutboxRelayBed,
  testEndpoints,
  testLogger,
  uniqueId,
  waitFor,
} from '../support';

describe('the transactional outbox and its relay', () => {
  it('when the after-publish step of a batch is slow, then the next batch is read and sent meanwhile, and drain waits for both steps', async () => {
    let releaseFirst: () => void = () => undefined;
    const firstHeld = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    const after: number[][] = [];
    const bed = await startOutboxRelayBed({
      start: false,
      relay: {
        batchSize: 1,
        listen: false,
        afterPublish: async (records) => {
          const batch = records.map((r) => (r.payload as { n: number }).n);
          // The first batch's step finishes only once the second batch is on the topic.
          if (batch[0] === 1) await firstHeld;
          after.push(batch);
        },
      },
    });
    try {
      await bed.enqueue(1, 2);
      const drained = bed.relay.drain();
      await bed.published(2);
      releaseFirst();
      await drained;
      expect(after).toEqual([[1], [2]]);
    } finally {
      releaseFirst();
      await bed.close();
    }
  });

  it('when a transaction commits, its records are published once in order; when it rolls back, nothing is', async () => {
    const bed = await startOutboxRelayBed();
    try {
      const record = (n: number) => numberedRecords(bed.member, n, n)[0] as OutboxRecord;
      const enqueue = (records: OutboxRecord[]) =>
        withTransaction(bed.pool, (client) => enqueueOutbox(client, OUTBOX_TEST_SCHEMA, records));
      await enqueue([record(1), record(2)]);
      await expect(
        withTransaction(bed.pool, async (client) => {
          await enqueueOutbox(client, OUTBOX_TEST_SCHEMA, [record(99)]);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      // The same eventId enqueued again (a redelivered input) is not a second record.
      await enqueue([record(2), record(3)]);
      bed.relay.wake();

      const records = await bed.published(3);
      await bed.relay.drain();
      expect(records.map((r) => r.value.n)).toEqual([1, 2, 3]);
      expect(bed.reader.matching((r) => r.key === bed.member)).toHaveLength(3);
      const pending = await bed.pool.query(
        'SELECT count(*)::int AS n FROM relaytest.outbox WHERE published_at IS NULL',
      );
      expect(pending.rows[0].n).toBe(0);
    } finally {
      await bed.close();
    }
  });
});

/** A producer whose sends reach Kafka but whose first `failing` acknowledgements are lost. */
function losingAcks(failing: number) {
  let sends = 0;
  return {
    sends: () => sends,
    wrap: (producer: ProducerHandle): ProducerHandle => ({
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
    }),
  };
}

describe('the outbox relay when a send is in doubt', () => {
  it('when a send reached the topic but its acknowledgement was lost, then the relay finds its records there and does not send them again', async () => {
    const acks = losingAcks(1);
    const registry = createMetricsRegistry('test');
    const bed = await startOutboxRelayBed({
      producer: acks.wrap,
      relay: { metrics: registry },
      start: false,
    });
    try {
      await bed.enqueue(1, 5);
      bed.relay.start();
      await bed.drained(60_000);
      // A later record goes out as usual once the doubt is settled.
      await bed.enqueue(6);
      bed.relay.wake();
      await bed.published(6);
      await bed.reader.waitUntilCaughtUp();
      const records = bed.reader.matching((r) => r.key === bed.member);
      expect(records.map((r) => r.value.n)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(records.map((r) => r.headers['taobi-event-id'])).toEqual(
        numberedRecords(bed.member, 1, 6).map((r) => r.eventId),
      );
      expect(acks.sends()).toBe(2);
      const text = await registry.metrics();
      expect(metricValue(text, 'taobi_outbox_recovered_total', { topic: 'scoreChanged' })).toBe(5);
      expect(metricValue(text, 'taobi_outbox_published_total', { topic: 'scoreChanged' })).toBe(1);
    } finally {
      await bed.close();
    }
  });

  it('when a relay crashed after sending and before marking, then the relay taking over sends only what is not on the topic', async () => {
    const bed = await startOutboxRelayBed({ start: false });
    try {
      await bed.enqueue(1, 5);
      // The crashed relay had sent rows 1-3 (with their eventId header) and holds a lease about to lapse.
      await bed.pool.query(
        "INSERT INTO relaytest.outbox_lease (holder, expires_at) VALUES ('crashed-relay', now() + interval '1 second')",
      );
      await bed.producer.publish(
        numberedRecords(bed.member, 1, 3).map((r) => ({
          topic: bed.topics.scoreChanged,
          key: bed.member,
          value: r.payload,
          headers: { 'taobi-event-id': r.eventId },
        })),
      );
      bed.relay.start();
      await bed.published(5);
      await bed.drained();
      await bed.reader.waitUntilCaughtUp();
      expect(bed.reader.matching((r) => r.key === bed.member).map((r) => r.value.n)).toEqual([1, 2, 3, 4, 5]);
    } finally {
      await bed.close();
    }
  });

  it('when the read-back of a send in doubt hangs on a connection that never answers, then the relay gives it up, keeps the rows in doubt, and publishes them once Kafka answers again', async () => {
    // The relay reads the topics back through a client whose connections the test freezes; it
    // sends through another. Its first send's acknowledgement is lost, so its rows are in doubt.
    const sockets = new FreezableSockets();
    const readBackKafka = createKafka({
      brokers: testEndpoints().kafkaBrokers,
      clientId: uniqueId('read-back'),
      logger: testLogger('kafka'),
      socketFactory: sockets.socketFactory,
    });
    const acks = losingAcks(1);
    const registry = createMetricsRegistry('test');
    const bed = await startOutboxRelayBed({
      producer: acks.wrap,
      relay: { kafka: readBackKafka, metrics: registry, readBackStallMs: 5000 },
      start: false,
    });
    const failures = async () =>
      metricValue(await registry.metrics(), 'taobi_outbox_publish_failures_total') ?? 0;
    try {
      sockets.freeze();
      await bed.enqueue(1, 5);
      bed.relay.start();
      // The lost acknowledgement is one failure; a read-back given up is the next. A relay waiting
      // on the frozen connection (kafkajs's own timeouts and retries: minutes) has only the first.
      await waitFor(async () => (await failures()) >= 3, {
        timeoutMs: 60_000,
        description: 'the relay to give up two read-backs that hang',
      });
      expect(sockets.openedFrozen).toBeGreaterThan(0);
      expect(acks.sends()).toBe(1);

      // New connections answer again (the frozen ones never will): the next read-back finds the
      // five records, and a later one goes out as usual.
      const thawedAt = Date.now() / 1000;
      sockets.thaw();
      await bed.enqueue(6);
      bed.relay.wake();
      await bed.published(6, 30_000);
      await bed.drained();
      await bed.reader.waitUntilCaughtUp();
      expect(bed.reader.matching((r) => r.key === bed.member).map((r) => r.value.n)).toEqual([
        1, 2, 3, 4, 5, 6,
      ]);
      const text = await registry.metrics();
      expect(metricValue(text, 'taobi_outbox_recovered_total', { topic: 'scoreChanged' })).toBe(5);
      expect(metricValue(text, 'taobi_outbox_published_total', { topic: 'scoreChanged' })).toBe(1);
      expect(metricValue(text, 'taobi_outbox_relay_last_success_timestamp_seconds')).toBeGreaterThanOrEqual(
        thawedAt,
      );
    } finally {
      sockets.destroyAll();
      await bed.close();
    }
  });
});

describe('the outbox relay woken on commit', () => {
  // Far longer than the deadlines below: a relay that waited for its poll would fail them.
  const POLL_MS = 120_000;
  const DEADLINE_MS = 10_000;

  /** A relay on a fresh database, idle after publishing a first record. */
  async function idleRelay(options: { listen: boolean }): Promise<OutboxRelayBed> {
    const bed = await startOutboxRelayBed({
      applicationName: 'relay-wake',
      relay: { pollIntervalMs: POLL_MS, listen: options.listen },
    });
    // The first record, woken in-process; once it is marked, the relay rests for POLL_MS.
    await bed.enqueue(1);
    bed.relay.wake();
    await bed.published(1, DEADLINE_MS);
    await bed.drained();
    return bed;
  }

  /** The pid of the session listening on the relay's channel (pg_stat_activity shows its last statement). */
  async function listeningPid(bed: OutboxRelayBed): Promise<number | undefined> {
    const { rows } = await bed.pool.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity
       WHERE datname = current_database() AND query = 'LISTEN relaytest_outbox' AND state = 'idle'`,
    );
    return rows[0]?.pid;
  }

  it('when another process commits a record, then the idle relay publishes it through the notification, not its poll', async () => {
    const bed = await idleRelay({ listen: true });
    try {
      // Written by another connection, with no wake() in this process.
      await bed.enqueue(2);
      const records = await bed.published(2, DEADLINE_MS);
      expect(records.map((r) => r.value.n)).toEqual([1, 2]);
    } finally {
      await bed.close();
    }
  });

  it('when the listening connection is killed, then it listens again and a later commit still wakes the relay', async () => {
    const bed = await idleRelay({ listen: true });
    try {
      const before = await waitFor(() => listeningPid(bed), { description: 'a listening session' });
      await bed.pool.query('SELECT pg_terminate_backend($1)', [before]);
      await waitFor(
        async () => {
          const pid = await listeningPid(bed);
          return pid !== undefined && pid !== before;
        },
        { description: 'a new listening session', timeoutMs: DEADLINE_MS },
      );
      await bed.enqueue(2);
      expect((await bed.published(2, DEADLINE_MS)).map((r) => r.value.n)).toEqual([1, 2]);
    } finally {
      await bed.close();
    }
  });

  it('when the process that committed wakes its relay, then it publishes without listening or polling', async () => {
    const bed = await idleRelay({ listen: false });
    try {
      await bed.enqueue(2);
      bed.relay.wake();
      expect((await bed.published(2, DEADLINE_MS)).map((r) => r.value.n)).toEqual([1, 2]);
    } finally {
      await bed.close();
    }
  });
});

describe('the outbox backlog metrics', () => {
  it('when records wait in the outbox, then the gauges say how many and how old the oldest is; once published, 0 and 0', async () => {
    const registry = createMetricsRegistry('test');
    const bed = await startOutboxRelayBed({ relay: { metrics: registry }, start: false });
    try {
      await bed.enqueue(1, 3);
      // As if committed 90 s ago and stuck since (the relay is not started).
      await bed.pool.query("UPDATE relaytest.outbox SET created_at = now() - interval '90 seconds'");
      let text = await registry.metrics();
      expect(metricValue(text, 'taobi_outbox_pending_records')).toBe(3);
      expect(metricValue(text, 'taobi_outbox_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(90);
      // No relay running: no last round to report.
      expect(metricValue(text, 'taobi_outbox_relay_last_success_timestamp_seconds')).toBe(0);

      await bed.relay.drain();
      text = await registry.metrics();
      expect(metricValue(text, 'taobi_outbox_pending_records')).toBe(0);
      expect(metricValue(text, 'taobi_outbox_oldest_pending_age_seconds')).toBe(0);
      expect(metricValue(text, 'taobi_outbox_published_total', { topic: 'scoreChanged' })).toBe(3);
    } finally {
      await bed.close();
    }
  });
});

describe('the outbox relay with large records', () => {
  it('when the pending records exceed what the broker takes in one batch, then they go out in several, in order', async () => {
    const bed = await startOutboxRelayBed({ start: false });
    try {
      // 60 records of ~50 KB for one member (one partition): 3 MB, three times the broker's 1 MB limit.
      const padding = 'x'.repeat(50_000);
      await withTransaction(bed.pool, (client) =>
        enqueueOutbox(
          client,
          OUTBOX_TEST_SCHEMA,
          Array.from({ length: 60 }, (_, n) => ({
            eventId: `${bed.member}:${n}`,
            topic: 'scoreChanged' as const,
            key: bed.member,
            payload: { n, padding },
          })),
        ),
      );
      await bed.relay.drain();
      const records = await bed.published(60);
      expect(records.map((r) => r.value.n)).toEqual(Array.from({ length: 60 }, (_, n) => n));
    } finally {
      await bed.close();
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
  const broker = EphemeralBroker.forSuite();

  it('when the broker freezes during a send, then no transaction or pool connection is held, writers go on, and the lease is kept', async () => {
    let sends = 0;
    const leaseMs = 1500;
    const bed = await startOutboxRelayBed({
      brokers: broker().brokers,
      applicationName: 'relay-under-test',
      producer: (producer) => ({
        ...producer,
        publish: (records) => {
          sends += 1;
          return producer.publish(records);
        },
      }),
      relay: { leaseMs, pollIntervalMs: 250 },
      start: false,
    });
    await bed.producer.get();
    const observer = createPool({
      connectionString: bed.databaseUrl,
      logger: testLogger(),
      applicationName: 'observer',
      max: 1,
    });
    try {
      await bed.enqueue(1, 3);
      await broker().pause();
      bed.relay.start();
      await waitFor(() => sends > 0, { description: 'the relay to be sending' });

      // Kafka does not answer: the relay waits with nothing open in Postgres.
      const sessions = await observer.query<{ state: string; in_transaction: boolean }>(
        `SELECT state, xact_start IS NOT NULL AS in_transaction FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'relay-under-test'`,
      );
      expect(sessions.rows.filter((s) => s.in_transaction || s.state !== 'idle')).toEqual([]);
      expect(bed.pool.totalCount - bed.pool.idleCount).toBe(0);
      // Another writer of the outbox goes on.
      await bed.enqueue(4);
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

      broker().resume();
      const records = await bed.published(4, 60_000);
      expect(records.map((r) => r.value.n)).toEqual([1, 2, 3, 4]);
      await bed.drained();
    } finally {
      broker().resume();
      await bed.close();
      await observer.end();
    }
  });

  it('when a relay crashed holding the lease, then another takes over once it lapses and publishes in order', async () => {
    const bed = await startOutboxRelayBed({ brokers: broker().brokers, start: false });
    try {
      const { rows } = await bed.pool.query<{ expires_at: Date }>(
        `INSERT INTO relaytest.outbox_lease (holder, expires_at) VALUES ('crashed-relay', now() + interval '2 seconds')
         RETURNING expires_at`,
      );
      await bed.enqueue(1, 5);
      bed.relay.start();

      const records = await bed.published(5);
      expect(records.map((r) => r.value.n)).toEqual([1, 2, 3, 4, 5]);
      // A reader can see the records before the relay's commit marks them published.
      await bed.drained();
      const published = await bed.pool.query<{ first: Date }>(
        'SELECT min(published_at) AS first FROM relaytest.outbox',
      );
      expect(published.rows[0]?.first.getTime()).toBeGreaterThanOrEqual(
        rows[0]?.expires_at.getTime() ?? Infinity,
      );
      const lease = await bed.pool.query<{ holder: string }>('SELECT holder FROM relaytest.outbox_lease');
      expect(lease.rows[0]?.holder).not.toBe('crashed-relay');
    } finally {
      await bed.close();
    }
  });
});
