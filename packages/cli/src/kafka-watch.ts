import { type Consumer, createKafka, createLogger, type Kafka } from '@taobi/platform';

export interface SeenRecord<T> {
  value: T;
  seenAt: number;
}

/**
 * Follows topics from their current end, the way a downstream app would, keeping every record with
 * the time it was seen. `ready` resolves once the consumer has joined and holds its partitions, so
 * nothing produced afterwards is missed.
 */
export class TopicWatch {
  readonly records = new Map<string, SeenRecord<unknown>[]>();
  private constructor(
    private readonly consumer: Consumer,
    readonly kafka: Kafka,
  ) {}

  static async start(brokers: string[], topics: string[]): Promise<TopicWatch> {
    const logger = createLogger({ name: 'taobi-cli', level: 'error' });
    const kafka = createKafka({ brokers, clientId: 'taobi-cli', logger });
    const consumer = kafka.consumer({ groupId: `taobi-cli-${Date.now()}`, maxWaitTimeInMs: 250 });
    const watch = new TopicWatch(consumer, kafka);
    for (const topic of topics) watch.records.set(topic, []);
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: false });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        if (!message.value) return;
        watch.records.get(topic)?.push({ value: JSON.parse(message.value.toString()), seenAt: Date.now() });
      },
    });
    await joined;
    return watch;
  }

  of<T>(topic: string): SeenRecord<T>[] {
    return (this.records.get(topic) ?? []) as SeenRecord<T>[];
  }

  async close(): Promise<void> {
    await this.consumer.disconnect();
  }
}
