import type { TopicNames } from '@taobi/contracts';
import { connectProducer, consumerGroupLag, type Kafka, type Producer } from '@taobi/platform';
import { createTestDatabase, createTestTopics, testEndpoints, testKafka, uniqueId, waitFor } from './kit';

/**
 * What a service under test needs from the run's Kafka, Postgres and Redis, under names of its own:
 * every topic under a fresh prefix, a fresh database, a consumer group and a Redis key prefix, and
 * a producer to feed its input topic. `env` is what the service's config reads.
 */
export interface ServiceStage {
  kafka: Kafka;
  topics: TopicNames;
  prefix: string;
  databaseUrl: string;
  env: Record<string, string>;
  producer: Producer;
  close(): Promise<void>;
}

export async function createServiceStage(
  service: string,
  extraEnv: Record<string, string> = {},
): Promise<ServiceStage> {
  const endpoints = testEndpoints();
  const kafka = testKafka();
  const { prefix, topics } = await createTestTopics(kafka);
  const database = await createTestDatabase();
  const producer = await connectProducer(kafka);
  const env = {
    TAOBI_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
    KAFKA_TOPIC_PREFIX: prefix,
    KAFKA_GROUP_ID: uniqueId(service),
    DATABASE_URL: database.url,
    REDIS_URL: endpoints.redisUrl,
    REDIS_KEY_PREFIX: `${uniqueId('t')}:`,
    ...extraEnv,
  };
  return {
    kafka,
    topics,
    prefix,
    databaseUrl: database.url,
    env,
    producer,
    async close() {
      await producer.disconnect();
      await database.drop();
    },
  };
}

/** Waits until consumer group `groupId` has committed every record produced so far on `topic`. */
export async function waitUntilConsumed(
  kafka: Kafka,
  groupId: string,
  topic: string,
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(async () => (await consumerGroupLag(kafka, [{ groupId, topic }])) === 0, {
    timeoutMs,
    description: `group ${groupId} to consume every record on ${topic}`,
  });
}
