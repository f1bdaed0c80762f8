import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TopicNames } from '@taobi/contracts';
import {
  connectProducer,
  createOutboxRelay,
  createPool,
  createProducerHandle,
  enqueueOutbox,
  type Kafka,
  migrate,
  type OutboxRecord,
  type OutboxRelay,
  type OutboxRelayOptions,
  type Pool,
  type ProducerHandle,
  withTransaction,
} from '@taobi/platform';
import { outboxSql } from '@taobi/platform/outbox-migrations';
import { createTestDatabase, createTestTopics, testKafka, testLogger, uniqueId, waitFor } from './kit';
import { type ReadRecord, TopicReader } from './topic-reader';

/** The schema of the test outbox (`relaytest.outbox`, `relaytest.outbox_lease`). */
export const OUTBOX_TEST_SCHEMA = 'relaytest';

/** A fresh database with the relay's tables in schema `relaytest`, and a pool on it. */
export async function outboxDatabase(applicationName = 'test') {
  const database = await createTestDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'taobi-outbox-'));
  writeFileSync(join(dir, '1700000000000_outbox.sql'), `-- Up Migration\n${outboxSql(OUTBOX_TEST_SCHEMA)}`);
  await migrate({ databaseUrl: database.url, schema: OUTBOX_TEST_SCHEMA, dir, logger: testLogger() });
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

/** Score-changed outbox records `from`..`to` of one member: eventId `<member>:<n>`, payload `{ n }`. */
export const numberedRecords = (member: string, from: number, to: number): OutboxRecord[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({
    eventId: `${member}:${from + i}`,
    topic: 'scoreChanged' as const,
    key: member,
    payload: { n: from + i },
  }));

/** An outbox relay on a database and topics of its own, a reader of its topic, and one member's records. */
export interface OutboxRelayBed {
  relay: OutboxRelay;
  pool: Pool;
  databaseUrl: string;
  kafka: Kafka;
  topics: TopicNames;
  producer: ProducerHandle;
  reader: TopicReader<{ n: number }>;
  member: string;
  /** Commits the member's records `from`..`to` to the outbox (in one transaction). */
  enqueue(from: number, to?: number): Promise<void>;
  /** Waits for `count` of the member's records on the topic (deadline `timeoutMs`). */
  published(count: number, timeoutMs?: number): Promise<ReadRecord<{ n: number }>[]>;
  /** Waits until no row of the outbox is unpublished. */
  drained(timeoutMs?: number): Promise<void>;
  /** Stops the relay and closes what the bed opened. */
  close(): Promise<void>;
}

/**
 * An outbox relay as the tests of it need it: a fresh database and topics, a producer (replaced by
 * `producer(handle)` when a test wraps it), and a reader of score-changed. `relay` options override
 * the defaults (poll 50 ms); `brokers` another Kafka than the run's; `start: false` leaves the relay
 * unstarted.
 */
export async function startOutboxRelayBed(
  options: {
    brokers?: string[];
    applicationName?: string;
    producer?: (handle: ProducerHandle) => ProducerHandle;
    relay?: Partial<Omit<OutboxRelayOptions, 'pool' | 'schema' | 'producer' | 'topics'>>;
    start?: boolean;
  } = {},
): Promise<OutboxRelayBed> {
  const database = await outboxDatabase(options.applicationName);
  const kafka = testKafka(options.brokers);
  const { topics } = await createTestTopics(kafka);
  const connected = createProducerHandle(() => connectProducer(kafka));
  const producer = options.producer?.(connected) ?? connected;
  const reader = await TopicReader.start<{ n: number }>(topics.scoreChanged, kafka);
  const relay = createOutboxRelay({
    pool: database.pool,
    kafka,
    schema: OUTBOX_TEST_SCHEMA,
    producer,
    topics,
    logger: testLogger(),
    pollIntervalMs: 50,
    ...options.relay,
  });
  const member = uniqueId('m');
  if (options.start ?? true) relay.start();
  return {
    relay,
    pool: database.pool,
    databaseUrl: database.database.url,
    kafka,
    topics,
    producer,
    reader,
    member,
    enqueue: (from, to = from) =>
      withTransaction(database.pool, (client) =>
        enqueueOutbox(client, OUTBOX_TEST_SCHEMA, numberedRecords(member, from, to)),
      ),
    published: (count, timeoutMs) => reader.waitForCount(count, (r) => r.key === member, timeoutMs),
    async drained(timeoutMs = 20_000) {
      await waitFor(
        async () =>
          (await database.pool.query(`SELECT 1 FROM ${OUTBOX_TEST_SCHEMA}.outbox WHERE published_at IS NULL`))
            .rowCount === 0,
        { timeoutMs, description: 'every outbox row marked published' },
      );
    },
    async close() {
      await relay.stop();
      await reader.close();
      await connected.close();
      await database.close();
    },
  };
}
