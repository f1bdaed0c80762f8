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
  /** Once set, a crash is the consumer's last: kafkajs restarts it no more. */
  private closed = false;
  /** Settles once a restart kafkajs began after a crash has joined the group or given up. */
  private restarted: Promise<void> = Promise.resolve();

  private readonly consumer: Consumer;

  private constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
  ) {
    this.consumer = kafka.consumer({
      groupId: uniqueId('reader'),
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 250,
      // A reader rides out a broker outage (kafkajs restarts it after a crash), but not its close.
      retry: { restartOnFailure: async () => !this.closed },
    });
    this.followRestarts();
  }

  static async start<T = unknown>(topic: string, kafka: Kafka = testKafka()): Promise<TopicReader<T>> {
    const reader = new TopicReader<T>(kafka, topic);
    const { consumer } = reader;
    await consumer.connect();
    // Every topic here comes from ensureTopics, which returns once every broker knows it: a broker
    // that did not would answer UNKNOWN_TOPIC_OR_PARTITION, which kafkajs' subscribe does not retry.
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

  /** Notes each restart kafkajs begins after a crash, until the consumer has joined again or given up. */
  private followRestarts(): void {
    let settle: () => void = () => undefined;
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) {
        settle();
        return;
      }
      this.restarted = new Promise((resolve) => {
        settle = resolve;
      });
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => settle());
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

  /**
   * Stops the consumer for good. A consumer stopped while kafkajs restarts it after a crash (its
   * broker was down) is not stopped: the restart goes on behind the stop (kafkajs#1639), and with
   * the broker gone for good it crashes and restarts for ever, keeping the process alive ("Jest did
   * not exit"). So a restart under way is let finish first (it joins, or crashes for the last time:
   * `closed`), within a deadline.
   */
  async close(): Promise<void> {
    this.closed = true;
    await settledWithin(this.restarted, 60_000);
    // A disconnect that hangs (a fetch to a broker gone for good) must not hold the suite until
    // jest's hook timeout: the consumer is left behind, and the run says so.
    if (!(await settledWithin(this.consumer.disconnect(), 30_000))) {
      process.stderr.write(
        `[TopicReader] ${this.topic}: consumer not disconnected within 30 s, left behind\n`,
      );
    }
  }
}

/** Whether `work` settled within `ms` (its own result or error do not matter here). */
async function settledWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    deadline,
  ]).finally(() => clearTimeout(timer));
}
