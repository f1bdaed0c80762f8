/**
 * The batch consumer's guards around its group membership (consumer-watchdog.ts), against real
 * brokers: it rejoins a rebalancing group within one batch instead of handling the whole fetch
 * first, and a consumer no coordinator hears from for its stall limit declares itself dead.
 */
import { topicSpecs } from '@taobi/contracts';
import {
  type BatchConsumer,
  type BatchConsumerOptions,
  connectProducer,
  createBatchConsumer,
  createMetricsRegistry,
  createProducerHandle,
  createReadiness,
  type Kafka,
  partitionForKey,
  publish,
  type Readiness,
} from '@taobi/platform';
import { z } from 'zod';
import {
  createTestTopics,
  EphemeralBroker,
  metricValue,
  testKafka,
  testLogger,
  uniqueId,
  waitFor,
} from '../support';

const recordSchema = z.object({ memberId: z.string(), n: z.number().int() });
type TestRecord = z.infer<typeof recordSchema>;

function batchConsumer(
  kafka: Kafka,
  topics: { consumption: string; consumptionDlq: string },
  groupId: string,
  handle: BatchConsumerOptions<TestRecord>['handle'],
  extra: Partial<BatchConsumerOptions<TestRecord>> & { readiness?: Readiness } = {},
): BatchConsumer {
  return createBatchConsumer({
    kafka,
    groupId,
    topics: [topics.consumption],
    logger: testLogger(),
    schema: recordSchema,
    dlq: { producer: createProducerHandle(() => connectProducer(kafka)), topic: topics.consumptionDlq },
    handle,
    readiness: createReadiness(),
    ...extra,
  });
}

/** One member per partition of the consumption topic, so a fetch brings one batch per partition. */
function memberPerPartition(partitions: number): string[] {
  const members = new Map<number, string>();
  while (members.size < partitions) {
    const member = uniqueId('m');
    members.set(partitionForKey(member, partitions), member);
  }
  return [...members.values()];
}

describe('the batch consumer in a rebalancing group', () => {
  it('when another member joins while a fetch of many batches is being handled, then the consumer skips the rest and rejoins at once', async () => {
    const kafka = testKafka();
    const { prefix, topics } = await createTestTopics(kafka);
    const partitions = topicSpecs(prefix).find((s) => s.topic === topics.consumption)?.numPartitions ?? 0;
    expect(partitions).toBeGreaterThanOrEqual(4);
    const producer = await connectProducer(kafka);
    const groupId = uniqueId('g');
    const handled = new Map<string, number[]>();
    let batchesByFirst = 0;
    // Each batch is a fold of 3 s: handling the whole first fetch would take 3 s per partition.
    const slowFold = (who: string) => async (records: { value: TestRecord }[]) => {
      if (who === 'first') batchesByFirst += 1;
      await new Promise((resolve) => setTimeout(resolve, 3000));
      for (const { value } of records)
        handled.set(value.memberId, [...(handled.get(value.memberId) ?? []), value.n]);
    };
    const first = batchConsumer(kafka, topics, groupId, slowFold('first'), { sessionTimeout: 10_000 });
    const second = batchConsumer(kafka, topics, groupId, slowFold('second'), { sessionTimeout: 10_000 });
    try {
      const members = memberPerPartition(partitions);
      await publish(
        producer,
        members.flatMap((memberId) =>
          [1, 2, 3].map((n) => ({ topic: topics.consumption, key: memberId, value: { memberId, n } })),
        ),
      );
      await first.start();
      await waitFor(() => batchesByFirst > 0, { description: 'the first consumer to be folding' });
      // The newcomer's join completes once the first member has rejoined.
      await second.start();
      expect(batchesByFirst).toBeLessThanOrEqual(2);
      expect(batchesByFirst).toBeLessThan(partitions);
      // Nothing is lost: every member's records are handled (some twice: a skipped commit).
      await waitFor(() => members.every((m) => new Set(handled.get(m)).size === 3), {
        timeoutMs: 90_000,
        description: 'every record handled',
      });
    } finally {
      await Promise.all([first.stop(), second.stop()]);
      await producer.disconnect();
    }
  }, 150_000);
});

describe('the batch consumer cut off from its group coordinator', () => {
  const broker = EphemeralBroker.forSuite();

  it('when no heartbeat is accepted for its stall limit, then it declares itself dead (the supervisor restarts the process) and the age metric shows why', async () => {
    const kafka = testKafka(broker().brokers);
    const { topics } = await createTestTopics(kafka);
    const readiness = createReadiness();
    const registry = createMetricsRegistry('test');
    const deaths: Error[] = [];
    readiness.onFatal((_, error) => deaths.push(error));
    const groupId = uniqueId('g');
    const consumer = batchConsumer(kafka, topics, groupId, async () => undefined, {
      readiness,
      metrics: registry,
      sessionTimeout: 6000,
      stallTimeoutMs: 8000,
    });
    try {
      await consumer.start();
      // Healthy: heartbeats go through, nothing dies.
      await waitFor(
        async () =>
          (metricValue(await registry.metrics(), 'taobi_kafka_consumer_heartbeat_age_seconds', {
            group: groupId,
          }) ?? Number.POSITIVE_INFINITY) < 4,
        { description: 'a recent heartbeat' },
      );
      expect(deaths).toEqual([]);

      await broker().pause();
      const [death] = await waitFor(() => (deaths.length > 0 ? deaths : undefined), {
        timeoutMs: 60_000,
        description: 'the consumer to declare itself dead',
      });
      expect(death?.message).toMatch(/no heartbeat accepted by the group coordinator for \d+ s/);
      const { checks } = await readiness.evaluate(1000);
      expect(checks[`consumer:${groupId}`]).toMatch(/^dead: no heartbeat accepted/);
      expect(
        metricValue(await registry.metrics(), 'taobi_kafka_consumer_heartbeat_age_seconds', {
          group: groupId,
        }),
      ).toBeGreaterThanOrEqual(8);
    } finally {
      broker().resume();
      await consumer.stop().catch(() => undefined);
    }
  }, 150_000);
});
