import { type DeadLetter, deadLetterEventId, type TopicNames } from '@taobi/contracts';
import {
  alignTopicConfigs,
  type BatchConsumer,
  type BatchConsumerOptions,
  type ConsumedRecord,
  connectProducer,
  createBatchConsumer,
  createMetricsRegistry,
  createProducerHandle,
  createReadiness,
  ensureTopics,
  type Kafka,
  kafkaSeededWith,
  type Producer,
  partitionForKey,
  publish,
  waitForTopicsOnEveryBroker,
} from '@taobi/platform';
import { ConfigResourceTypes, KafkaJSError, Kafka as PlainKafka } from 'kafkajs';
import { z } from 'zod';
import {
  createTestTopics,
  metricValue,
  TopicReader,
  testKafka,
  testLogger,
  testTopicPrefix,
  uniqueId,
  waitFor,
} from '../support';

const recordSchema = z.object({ memberId: z.string(), n: z.number().int() });
type TestRecord = z.infer<typeof recordSchema>;

describe('platform Kafka helpers against the real broker', () => {
  let kafka: Kafka;
  let producer: Producer;
  let topics: TopicNames;
  const consumers: BatchConsumer[] = [];

  beforeAll(async () => {
    kafka = testKafka();
    ({ topics } = await createTestTopics(kafka));
    producer = await connectProducer(kafka);
  });

  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.stop().catch(() => undefined)));
  });

  afterAll(async () => {
    await producer.disconnect();
  });

  function consumer(groupId: string, handle: BatchConsumerOptions<TestRecord>['handle'], extra = {}) {
    const batchConsumer = createBatchConsumer({
      kafka,
      groupId,
      topics: [topics.consumption],
      logger: testLogger(),
      schema: recordSchema,
      dlq: { producer: createProducerHandle(async () => producer), topic: topics.consumptionDlq },
      handle,
      readiness: createReadiness(),
      ...extra,
    });
    consumers.push(batchConsumer);
    return batchConsumer;
  }

  const send = (memberId: string, from: number, to: number) =>
    publish(
      producer,
      Array.from({ length: to - from + 1 }, (_, i) => ({
        topic: topics.consumption,
        key: memberId,
        value: { memberId, n: from + i },
      })),
    );

  async function committedOffsets(groupId: string): Promise<Record<number, string>> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [result] = await admin.fetchOffsets({ groupId, topics: [topics.consumption] });
      return Object.fromEntries((result?.partitions ?? []).map((p) => [p.partition, p.offset]));
    } finally {
      await admin.disconnect();
    }
  }

  it('when records are published, then the batch consumer gets each member in order and commits after handling', async () => {
    const [alice, bob] = [uniqueId('m'), uniqueId('m')];
    const groupId = uniqueId('g');
    const seen: ConsumedRecord<TestRecord>[] = [];
    await consumer(groupId, async (records) => {
      seen.push(...records);
    }).start();

    const metadata = [...(await send(alice, 1, 10)), ...(await send(bob, 1, 10))];

    await waitFor(() => seen.filter((r) => [alice, bob].includes(r.value.memberId)).length >= 20, {
      description: '20 records',
    });
    for (const member of [alice, bob]) {
      const numbers = seen.filter((r) => r.value.memberId === member).map((r) => r.value.n);
      expect(numbers).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(new Set(seen.filter((r) => r.value.memberId === member).map((r) => r.partition)).size).toBe(1);
      expect(seen.find((r) => r.value.memberId === member)?.key).toBe(member);
    }
    // Every acknowledged record is covered by a committed offset.
    await waitFor(
      async () => {
        const committed = await committedOffsets(groupId);
        return metadata.every((m) => BigInt(committed[m.partition] ?? '-1') > BigInt(m.baseOffset ?? '0'));
      },
      { description: 'offsets committed' },
    );
  });

  it('when a batch takes longer than the session timeout, then the consumer heartbeats through it: handled once, committed, no rebalance', async () => {
    const member = uniqueId('m');
    const groupId = uniqueId('g');
    const seen: number[] = [];
    let slow = true;
    await consumer(
      groupId,
      async (records) => {
        seen.push(...records.filter((r) => r.value.memberId === member).map((r) => r.value.n));
        // The first batch is a fold that outlasts the 6 s session (a large batch on a loaded machine).
        if (slow) {
          slow = false;
          await new Promise((resolve) => setTimeout(resolve, 15_000));
        }
      },
      { sessionTimeout: 6000 },
    ).start();
    const metadata = await send(member, 1, 5);
    await waitFor(
      async () => {
        const committed = await committedOffsets(groupId);
        return metadata.every((m) => BigInt(committed[m.partition] ?? '-1') > BigInt(m.baseOffset ?? '0'));
      },
      { description: 'offsets committed after the slow batch', timeoutMs: 60_000 },
    );
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  }, 90_000);

  it('when a consumer crashes mid-batch, then a restarted one sees the uncommitted records again, and only those', async () => {
    const member = uniqueId('m');
    const groupId = uniqueId('g');
    const firstRun: number[] = [];
    let crash = false;
    let crashed = false;
    const readiness = createReadiness();
    readiness.onFatal(() => (crashed = true));
    await consumer(
      groupId,
      async (records) => {
        for (const record of records.filter((r) => r.value.memberId === member)) {
          if (crash && record.value.n === 8) throw new Error('simulated crash in the middle of a batch');
          firstRun.push(record.value.n);
        }
      },
      { retries: 0, readiness },
    ).start();

    await send(member, 1, 5);
    await waitFor(() => firstRun.length === 5, { description: 'first five handled' });
    await waitFor(async () => Object.values(await committedOffsets(groupId)).some((o) => o !== '-1'), {
      description: 'first five committed',
    });

    crash = true;
    await send(member, 6, 10);
    await waitFor(() => crashed, { description: 'the consumer to crash' });
    expect(firstRun).toEqual([1, 2, 3, 4, 5, 6, 7]);
    await consumers[0]?.stop();

    const secondRun: number[] = [];
    await consumer(groupId, async (records) => {
      secondRun.push(...records.filter((r) => r.value.memberId === member).map((r) => r.value.n));
    }).start();
    await waitFor(() => secondRun.length >= 5, { description: 'redelivery after restart' });
    // 6 and 7 were handled but not committed: they come again. 1..5 were committed: they do not.
    expect(secondRun).toEqual([6, 7, 8, 9, 10]);
  });

  it('when an offset commit fails while the next fetch runs, then no record is lost, the batch after it is handled once and covers it, and a restart redelivers only an uncommitted batch', async () => {
    const member = uniqueId('m');
    const groupId = uniqueId('g');
    const handled: number[] = [];
    const readiness = createReadiness();
    let fatal = false;
    readiness.onFatal(() => (fatal = true));
    const batchConsumer = consumer(
      groupId,
      async (records) => {
        handled.push(...records.filter((r) => r.value.memberId === member).map((r) => r.value.n));
      },
      { readiness },
    );
    // The broker, records and offsets are real; the commit call fails on demand, as one does whose
    // coordinator kept refusing it past kafkajs' retries (its error reaches the batch consumer).
    const commit = batchConsumer.consumer.commitOffsets.bind(batchConsumer.consumer);
    let failNext = false;
    let failures = 0;
    batchConsumer.consumer.commitOffsets = async (offsets) => {
      if (!failNext) return commit(offsets);
      failNext = false;
      failures += 1;
      throw new KafkaJSError('the offset commit failed (injected)', { retriable: true });
    };
    await batchConsumer.start();

    failNext = true;
    await send(member, 1, 5);
    await waitFor(() => failures === 1 && handled.length >= 5, {
      description: 'first batch handled, its commit failed',
    });
    // The next batch of the partition meets the failed commit first (its batch is retried), then is
    // handled once, and its commit covers the first batch's records too.
    const metadata = await send(member, 6, 10);
    await waitFor(
      async () => {
        const committed = await committedOffsets(groupId);
        return metadata.every(
          (m) => BigInt(committed[m.partition] ?? '-1') > BigInt(m.baseOffset ?? '0') + 4n,
        );
      },
      { description: 'offsets committed past record 10' },
    );
    expect(handled).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(fatal).toBe(false);

    // The last batch's commit fails and no batch follows: a restart redelivers that batch, only it.
    failNext = true;
    await send(member, 11, 12);
    await waitFor(() => failures === 2 && handled.length >= 12, {
      description: 'last batch handled, its commit failed',
    });
    await batchConsumer.stop();
    const secondRun: number[] = [];
    await consumer(groupId, async (records) => {
      secondRun.push(...records.filter((r) => r.value.memberId === member).map((r) => r.value.n));
    }).start();
    await waitFor(() => secondRun.length >= 2, { description: 'redelivery after restart' });
    expect(secondRun).toEqual([11, 12]);
    expect(handled).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('when a record is not JSON or breaks its schema, then it goes to the DLQ with the reason and the rest is handled', async () => {
    const member = uniqueId('m');
    const handled: number[] = [];
    const dlq = await TopicReader.start<DeadLetter>(topics.consumptionDlq, kafka);
    try {
      await consumer(uniqueId('g'), async (records) => {
        handled.push(...records.filter((r) => r.value.memberId === member).map((r) => r.value.n));
      }).start();
      await producer.send({
        topic: topics.consumption,
        acks: -1,
        messages: [
          { key: member, value: 'not json {' },
          { key: member, value: JSON.stringify({ memberId: member, n: 'two' }) },
          { key: member, value: JSON.stringify({ memberId: member, n: 3 }) },
        ],
      });
      await waitFor(() => handled.includes(3), { description: 'the valid record handled' });
      const letters = await dlq.waitForCount(2, (r) => r.value.origin.key === member);
      expect(handled).toEqual([3]);
      // The not-JSON letter has no member (null key), so it may land on another DLQ partition than
      // the other: take them in the order of the records they stand for.
      const [notJson, badSchema] = letters
        .map((r) => r.value)
        .sort((a, b) => Number(BigInt(a.origin.offset) - BigInt(b.origin.offset)));
      expect(notJson?.reason).toBe('record value is not JSON');
      expect(Buffer.from(notJson?.originalValue ?? '', 'base64').toString()).toBe('not json {');
      expect(badSchema?.reason).toBe('record does not match its schema');
      expect(badSchema?.errors.map((e) => e.field)).toEqual(['n']);
      expect(badSchema?.memberId).toBe(member);
      expect(letters.find((r) => r.value === badSchema)?.key).toBe(member);
    } finally {
      await dlq.close();
    }
  });

  it('when the handler rejects a valid record, then it goes to the DLQ with the handler reason', async () => {
    const member = uniqueId('m');
    const groupId = uniqueId('g');
    const dlq = await TopicReader.start<DeadLetter>(topics.consumptionDlq, kafka);
    try {
      await consumer(groupId, async (records) => ({
        rejected: records
          .filter((r) => r.value.memberId === member && r.value.n === 2)
          .map((record) => ({
            record,
            reason: 'two is not allowed',
            errors: [{ field: 'n', message: 'odd only' }],
          })),
      })).start();
      await send(member, 1, 3);
      const [letter] = await dlq.waitForCount(1, (r) => r.value.origin.key === member);
      expect(letter?.value.reason).toBe('two is not allowed');
      expect(letter?.value.errors).toEqual([{ field: 'n', message: 'odd only' }]);
      expect(letter?.value.memberId).toBe(member);
      expect(JSON.parse(Buffer.from(letter?.value.originalValue ?? '', 'base64').toString())).toEqual({
        memberId: member,
        n: 2,
      });
    } finally {
      await dlq.close();
    }
  });

  it('when a consumer is held up, then its lag per partition reads the records it has not committed, and 0 once it has; each dead letter is counted by reason', async () => {
    const member = uniqueId('m');
    const groupId = uniqueId('g');
    const registry = createMetricsRegistry('test');
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    await consumer(
      groupId,
      async (records) => {
        if (records.some((r) => r.value.memberId === member)) await gate;
        return {
          rejected: records
            .filter((r) => r.value.memberId === member && r.value.n === 2)
            .map((record) => ({ record, reason: 'two is not allowed' })),
        };
      },
      { metrics: registry },
    ).start();
    const [sent] = await send(member, 1, 3);
    const partition = String(sent?.partition);
    const lag = async () =>
      metricValue(await registry.metrics(), 'taobi_kafka_consumer_lag', {
        group: groupId,
        topic: topics.consumption,
        partition,
      }) ?? -1;
    await waitFor(async () => (await lag()) >= 3, { description: 'the held-up records counted as lag' });
    release();
    await waitFor(async () => (await lag()) === 0, { description: 'the lag back to 0 after the commit' });
    const letters = metricValue(await registry.metrics(), 'taobi_dlq_letters_total', {
      group: groupId,
      topic: topics.consumption,
      reason: 'two is not allowed',
    });
    expect(letters).toBe(1);
  });

  it('when a batch with bad records is delivered again, then its letters keep their ids; another group letters under its own', async () => {
    const member = uniqueId('m');
    const groupId = uniqueId('g');
    const dlq = await TopicReader.start<DeadLetter>(topics.consumptionDlq, kafka);
    const letters = () => dlq.matching((r) => r.value.origin.key === member).map((r) => r.value);
    const rejectTwo: BatchConsumerOptions<TestRecord>['handle'] = async (records) => ({
      rejected: records
        .filter((r) => r.value.memberId === member && r.value.n === 2)
        .map((record) => ({ record, reason: 'two is not allowed' })),
    });
    try {
      await producer.send({
        topic: topics.consumption,
        acks: -1,
        messages: [
          { key: member, value: JSON.stringify({ memberId: member, n: 'one' }) },
          { key: member, value: JSON.stringify({ memberId: member, n: 2 }) },
        ],
      });
      const first = consumer(groupId, rejectTwo);
      await first.start();
      await waitFor(() => letters().length === 2, { description: 'two letters' });
      await first.stop();

      // The same group reads the same records again (offsets reset, as after a crash before the commit).
      const admin = kafka.admin();
      await admin.connect();
      try {
        await admin.resetOffsets({ groupId, topic: topics.consumption, earliest: true });
      } finally {
        await admin.disconnect();
      }
      await consumer(groupId, rejectTwo).start();
      await waitFor(() => letters().length === 4, { description: 'the batch lettered again' });
      await consumer(uniqueId('g'), rejectTwo).start();
      await waitFor(() => letters().length === 6, { description: 'a second group to letter it' });

      const all = letters();
      for (const letter of all) {
        expect(letter.eventId).toBe(deadLetterEventId(letter.consumerGroup, letter.origin));
      }
      const ofGroup = all.filter((l) => l.consumerGroup === groupId);
      expect(ofGroup).toHaveLength(4);
      // Two records, each lettered twice by the group under one id; the other group's ids are its own.
      expect(new Set(ofGroup.map((l) => l.eventId)).size).toBe(2);
      expect(new Set(all.map((l) => l.eventId)).size).toBe(4);
    } finally {
      await dlq.close();
    }
  });

  it('when several callers create topics at once, then each ensureTopics returns once every partition has a leader, and a rerun creates none', async () => {
    // Concurrent creators are what parallel test files and services starting together do; a KRaft
    // broker then answers "does not host this topic-partition" for a moment after each creation.
    const batches = Array.from({ length: 4 }, () => {
      const prefix = testTopicPrefix();
      return Array.from({ length: 5 }, (_, i) => ({ topic: `${prefix}many-${i}`, numPartitions: 6 }));
    });
    const created = await Promise.all(batches.map((specs) => ensureTopics(kafka, specs)));
    expect(created).toEqual(batches.map((specs) => specs.map((s) => s.topic)));

    const specs = batches.flat();
    const admin = kafka.admin({ retry: { retries: 0 } });
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.topic) });
      for (const { topic, numPartitions } of specs) {
        const partitions = metadata.topics.find((t) => t.name === topic)?.partitions ?? [];
        expect({ topic, led: partitions.filter((p) => p.leader >= 0).length }).toEqual({
          topic,
          led: numPartitions,
        });
      }
    } finally {
      await admin.disconnect();
    }
    expect(await ensureTopics(kafka, specs)).toEqual([]);
  });

  it('when a broker does not know a topic, then waitForTopicsOnEveryBroker gives up by its deadline naming the broker and that topic; topics it knows pass', async () => {
    // ensureTopics ends with this wait: on a cluster, a topic just created reaches each broker's
    // metadata a moment apart, and a consumer asking one that lacks it fails its subscribe.
    const prefix = testTopicPrefix();
    const known = `${prefix}known`;
    const absent = `${prefix}absent`;
    await ensureTopics(kafka, [{ topic: known, numPartitions: 2 }]);
    await expect(waitForTopicsOnEveryBroker(kafka, [known], 5000)).resolves.toBeUndefined();

    const started = Date.now();
    const error = (await waitForTopicsOnEveryBroker(kafka, [known, absent], 1500).catch((e) => e)) as Error;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error.message).toMatch(
      new RegExp(
        `^Kafka broker \\d+ \\(.+:\\d+\\) still lacks a topic or its leaders after 1500 ms: ${absent} \\(UNKNOWN_TOPIC_OR_PARTITION\\)$`,
      ),
    );
    // A client made otherwise cannot be seeded again with its configuration: said, not guessed.
    expect(() => kafkaSeededWith(new PlainKafka({ brokers: ['127.0.0.1:1'] }), '127.0.0.1:2')).toThrow(
      'kafkaSeededWith needs a client made by createKafka',
    );
  });

  it('when an existing topic has fewer partitions than expected, then ensureTopics fails naming it; more are accepted', async () => {
    const topic = `${testTopicPrefix()}narrow`;
    await ensureTopics(kafka, [{ topic, numPartitions: 2 }]);
    await expect(ensureTopics(kafka, [{ topic, numPartitions: 3 }])).rejects.toThrow(
      `Kafka topic ${topic} has 2 partitions where Taobi expects 3`,
    );
    expect(await ensureTopics(kafka, [{ topic, numPartitions: 1 }])).toEqual([]);
  });

  it('when a topic exists without the retention the contracts fix, then alignTopicConfigs applies it, keeps its other overrides, and a rerun changes nothing', async () => {
    const topic = `${testTopicPrefix()}kept`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'delete' }] }],
      });
      const spec = {
        topic,
        numPartitions: 1,
        configEntries: [{ name: 'retention.ms', value: '34560000000' }],
      };
      expect(await alignTopicConfigs(kafka, [spec])).toEqual([topic]);
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
      });
      const value = (name: string) =>
        described.resources[0]?.configEntries.find((e) => e.configName === name)?.configValue;
      expect([value('retention.ms'), value('cleanup.policy')]).toEqual(['34560000000', 'delete']);
      expect(await alignTopicConfigs(kafka, [spec])).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  });

  it('when a keyed record is produced, then partitionForKey names the partition it landed on (murmur2, as the producers)', async () => {
    // A topic of its own: the others here hold records that are not JSON, which a reader chokes on.
    const topic = `${testTopicPrefix()}keyed`;
    await ensureTopics(kafka, [{ topic, numPartitions: 6 }]);
    const keys = Array.from({ length: 12 }, (_, i) => `m-partition-${i}`);
    await publish(
      producer,
      keys.map((key) => ({ topic, key, value: { memberId: key } })),
    );
    const reader = await TopicReader.start(topic, kafka);
    try {
      const records = await reader.waitForCount(keys.length, (r) => keys.includes(r.key ?? ''));
      for (const record of records) {
        expect([record.key, record.partition]).toEqual([record.key, partitionForKey(record.key ?? '', 6)]);
      }
      expect(new Set(records.map((r) => r.partition)).size).toBeGreaterThan(1);
    } finally {
      await reader.close();
    }
  });
});
