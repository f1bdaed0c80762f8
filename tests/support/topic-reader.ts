import type { Consumer, Kafka } from 'kafkajs';
import { testKafka, uniqueId, waitFor } from './kit';

export interface ReadRecord<T = unknown> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: T;
  /** The record's headers as strings (e.g. `traceparent`). */
  headers: Record<string, string>;
}

/**
 * Reads a topic from the beginning in a group of its own, keeping every record, so a test can
 * wait for what should arrive and check what should not.
 */
export class TopicReader<T = unknown> {
  readonly records: ReadRecord<T>[] = [];
  private constructor(
    private readonly consumer: Consumer,
    private readonly kafka: Kafka,
    private readonly topic: string,
  ) {}

  static async start<T = unknown>(topic: string, kafka: Kafka = testKafka()): Promise<TopicReader<T>> {
    const consumer = kafka.consumer({
      groupId: uniqueId('reader'),
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 250,
    });
    const reader = new TopicReader<T>(consumer, kafka, topic);
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic: t, partition, message }) => {
        reader.records.push({
          topic: t,
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value ? (JSON.parse(message.value.toString()) as T) : (null as T),
          headers: Object.fromEntries(
            Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]),
          ),
        });
      },
    });
    return reader;
  }

  matching(predicate: (record: ReadRecord<T>) => boolean): ReadRecord<T>[] {
    return this.records.filter(predicate);
  }

  /** Waits until at least `count` records match, and returns them. */
  async waitForCount(
    count: number,
    predicate: (record: ReadRecord<T>) => boolean = () => true,
    timeoutMs = 30_000,
  ): Promise<ReadRecord<T>[]> {
    return waitFor(
      () => {
        const found = this.matching(predicate);
        return found.length >= count ? found : undefined;
      },
      { timeoutMs, description: `${count} record(s) (have ${this.matching(predicate).length})` },
    );
  }

  /**
   * Waits until every record on the topic now has been read, so a test can assert that something
   * was published exactly once (or never) rather than only that it arrived.
   */
  async waitUntilCaughtUp(timeoutMs = 30_000): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(this.topic).finally(() => admin.disconnect());
    const behind = () =>
      ends.filter(
        ({ partition, high }) =>
          Number(high) > 0 &&
          !this.records.some((r) => r.partition === partition && Number(r.offset) >= Number(high) - 1),
      );
    await waitFor(() => behind().length === 0, {
      timeoutMs,
      description: `reader to reach the end of ${this.topic}`,
    });
  }

  async close(): Promise<void> {
    await this.consumer.disconnect();
  }
}
