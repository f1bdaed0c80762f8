/**
 * Trace context through the platform's Kafka plumbing, against the real broker: `publish` writes each
 * record's `traceparent` under its own trace, the batch consumer continues it for the handler (what
 * `enqueueOutbox` stores) and for the dead letters it sends.
 */
import type { DeadLetter, TopicNames } from '@taobi/contracts';
import {
  type BatchConsumer,
  boundToActiveTrace,
  connectProducer,
  createBatchConsumer,
  createProducerHandle,
  createReadiness,
  type Kafka,
  type OutgoingRecord,
  traceparentForKey,
  traceparentOf,
  tracer,
} from '@taobi/platform';
import { startTracing } from '@taobi/platform/tracing';
import { z } from 'zod';
import { createTestTopics, TopicReader, testKafka, testLogger, uniqueId, waitFor } from '../support';

const recordSchema = z.object({ memberId: z.string(), n: z.number().int() });
const traceIdOf = (traceparent: string | null | undefined) => traceparent?.split('-')[1];

describe('trace context through Kafka (platform)', () => {
  // As a service runs without a collector: spans are not recorded, their ids travel all the same.
  const tracing = startTracing({ serviceName: 'platform-tracing-test', env: {} });
  let kafka: Kafka;
  let topics: TopicNames;
  let consumer: BatchConsumer | undefined;

  beforeAll(async () => {
    kafka = testKafka();
    ({ topics } = await createTestTopics(kafka));
  });

  afterAll(async () => {
    await consumer?.stop();
    await tracing.shutdown();
  });

  it('when records of two traces share one send, then each carries its own trace, which the handler and the dead letters continue', async () => {
    const producer = createProducerHandle(() => connectProducer(kafka));
    const [alice, bob] = [uniqueId('m'), uniqueId('m')];
    // Two "requests", each in a trace of its own; their records are sent together later, from
    // outside both traces (as the ingest kit does), each bound to its request's trace.
    const inRequest = (memberId: string, value: unknown) =>
      tracer().startActiveSpan('request', (span) => {
        span.end();
        const [record] = boundToActiveTrace<OutgoingRecord>([
          { topic: topics.consumption, key: memberId, value },
        ]);
        return { record: record as OutgoingRecord, traceparent: traceparentOf() };
      });
    const good = inRequest(alice, { memberId: alice, n: 1 });
    const poison = inRequest(bob, { memberId: bob, n: 'not a number' });
    const goodTrace = traceIdOf(good.traceparent);
    const poisonTrace = traceIdOf(poison.traceparent);
    expect(goodTrace).toMatch(/^[0-9a-f]{32}$/);
    expect(goodTrace).not.toEqual(poisonTrace);

    const readers = await Promise.all([
      TopicReader.start(topics.consumption, kafka),
      TopicReader.start<DeadLetter>(topics.consumptionDlq, kafka),
    ]);
    const [sent, letters] = readers as [TopicReader, TopicReader<DeadLetter>];
    const handled: { key: string | null; traceparent: string | null }[] = [];
    try {
      await producer.publish([good.record, poison.record]);
      const onTopic = await sent.waitForCount(2, (r) => [alice, bob].includes(r.key ?? ''));
      const header = (key: string) => onTopic.find((r) => r.key === key)?.headers.traceparent;
      expect(traceIdOf(header(alice))).toBe(goodTrace);
      expect(traceIdOf(header(bob))).toBe(poisonTrace);
      // A send span of its own, under the request's span.
      expect(header(alice)).not.toBe(good.traceparent);

      consumer = createBatchConsumer({
        kafka,
        groupId: uniqueId('g'),
        topics: [topics.consumption],
        logger: testLogger(),
        schema: recordSchema,
        dlq: { producer, topic: topics.consumptionDlq },
        readiness: createReadiness(),
        handle: async (records) => {
          // What enqueueOutbox stores with a row about each record's member.
          for (const record of records)
            handled.push({ key: record.key, traceparent: traceparentForKey(record.key) });
        },
      });
      await consumer.start();

      await waitFor(() => handled.some((h) => h.key === alice), { description: "alice's record handled" });
      expect(traceIdOf(handled.find((h) => h.key === alice)?.traceparent)).toBe(goodTrace);
      const [letter] = await letters.waitForCount(1, (r) => r.value.memberId === bob);
      expect(traceIdOf(letter?.headers.traceparent)).toBe(poisonTrace);
    } finally {
      await Promise.all(readers.map((reader) => reader.close()));
      await producer.close();
    }
  });
});
