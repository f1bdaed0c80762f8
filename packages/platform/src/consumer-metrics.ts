import type { Admin, Kafka } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import { partitionLags } from './consumer-lag';
import type { Logger } from './logger';
import { sharedMetric } from './metrics';
import { withTimeout } from './timeout';

/** A consumer's side of the shared consumer metrics (one registry may serve several consumers). */
export interface ConsumerMetrics {
  /** Counts letters sent to the DLQ, by the topic they came from and why. */
  deadLettered(letters: readonly { origin: { topic: string }; reason: string }[]): void;
  /** Closes the admin client the lag gauge reads offsets with. */
  close(): Promise<void>;
}

interface LagSource {
  groupId: string;
  topics: readonly string[];
  read(): Promise<{ topic: string; partition: number; lag: number }[]>;
}

const LAG_TIMEOUT_MS = 3000;
const lagSources = new WeakMap<Registry, Set<LagSource>>();

/**
 * - `taobi_kafka_consumer_lag{group,topic,partition}`: end offset minus the group's committed offset,
 *   read from the broker at scrape time (an admin client per consumer), so it grows while the
 *   consumer is stuck, not only while it runs;
 * - `taobi_dlq_letters_total{group,topic,reason}`: records the consumer sent to the DLQ.
 */
export function createConsumerMetrics(options: {
  registry: Registry;
  kafka: Kafka;
  groupId: string;
  topics: readonly string[];
  logger: Logger;
}): ConsumerMetrics {
  const { registry } = options;
  const letters = sharedMetric(
    registry,
    'taobi_dlq_letters_total',
    (name) =>
      new Counter({
        name,
        help: 'Records sent to the DLQ, by consumer group, the topic they came from and the reason',
        labelNames: ['group', 'topic', 'reason'],
        registers: [registry],
      }),
  );
  sharedMetric(registry, 'taobi_kafka_consumer_lag', (name) => {
    const sources = new Set<LagSource>();
    lagSources.set(registry, sources);
    return new Gauge({
      name,
      help: "Records on a partition not yet committed by the consumer group (end offset minus the group's committed offset)",
      labelNames: ['group', 'topic', 'partition'],
      registers: [registry],
      async collect() {
        this.reset();
        await Promise.all(
          [...sources].map(async (source) => {
            for (const { topic, partition, lag } of await source.read())
              this.labels(source.groupId, topic, String(partition)).set(lag);
          }),
        );
      },
    });
  });

  let admin: Admin | undefined;
  const log = options.logger.child({ component: 'consumer-lag', groupId: options.groupId });
  const source: LagSource = {
    groupId: options.groupId,
    topics: options.topics,
    async read() {
      try {
        admin ??= await connected(options.kafka);
        const lags = await withTimeout(
          Promise.all(
            options.topics.map(async (topic) =>
              (await partitionLags(admin as Admin, options.groupId, topic)).map((p) => ({ topic, ...p })),
            ),
          ),
          LAG_TIMEOUT_MS,
          `no answer from Kafka within ${LAG_TIMEOUT_MS} ms`,
        );
        return lags.flat();
      } catch (error) {
        // No value rather than a stale one: a scrape without the series says the lag is unknown.
        log.warn({ err: error }, 'consumer lag not read');
        const stale = admin;
        admin = undefined;
        await stale?.disconnect().catch(() => undefined);
        return [];
      }
    },
  };
  lagSources.get(registry)?.add(source);

  return {
    deadLettered(dead) {
      for (const letter of dead) letters.labels(options.groupId, letter.origin.topic, letter.reason).inc();
    },
    async close() {
      lagSources.get(registry)?.delete(source);
      await admin?.disconnect().catch(() => undefined);
      admin = undefined;
    },
  };
}

async function connected(kafka: Kafka): Promise<Admin> {
  const admin = kafka.admin({ retry: { retries: 1 } });
  try {
    await withTimeout(admin.connect(), LAG_TIMEOUT_MS, `no answer from Kafka within ${LAG_TIMEOUT_MS} ms`);
  } catch (error) {
    await admin.disconnect().catch(() => undefined);
    throw error;
  }
  return admin;
}
