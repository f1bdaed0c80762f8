import { type TopicNames, topicNames } from '@taobi/contracts';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { type AccessControl, accessKeysConfigSchema, createAccessControl, type RoleKeysConfig } from './auth';
import { type BatchConsumer, type BatchConsumerOptions, createBatchConsumer } from './batch-consumer';
import { baseConfigSchema, consumerGroupIdSchema, port } from './config';
import { createHttpApp, httpRateLimit } from './http-app';
import { createKafka, type Kafka } from './kafka/client';
import { createKafkaProbe } from './kafka/probe';
import { connectProducer, createProducerHandle, type ProducerHandle } from './kafka/producer';
import { kafkaConnection, type SecurityConfig } from './kafka/security';
import type { Logger } from './logger';
import { createMetricsRegistry } from './metrics';
import { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from './outbox';
import { createPool, migrate, type Pool } from './postgres';
import { createRedis } from './redis';
import { closeOnAppClose } from './shutdown';

/**
 * The start of the config schema of a service with an outbox, read and admin APIs and a consumer
 * group (scoring, tier, entitlement): the base variables, the read and admin keys, its port,
 * KAFKA_GROUP_ID and OUTBOX_POLL_INTERVAL_MS. Each `.extend()`s it with its own and ends with
 * `withConsumerGroup`.
 */
export const outboxServiceConfigSchema = (defaultPort: number) =>
  baseConfigSchema.extend(accessKeysConfigSchema.shape).extend({
    PORT: port(defaultPort),
    KAFKA_GROUP_ID: consumerGroupIdSchema,
    /** How often the outbox relay looks for rows when nothing woke it (commits wake it). */
    OUTBOX_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(250),
  });

/** The variables `createOutboxService` reads (every service's base config has them). */
export type OutboxServiceConfig = SecurityConfig &
  RoleKeysConfig & {
    TAOBI_ENV: string;
    KAFKA_TOPIC_PREFIX: string;
    DATABASE_URL: string;
    REDIS_URL: string;
    REDIS_KEY_PREFIX: string;
    HTTP_RATE_LIMIT_MAX: number;
    HTTP_RATE_LIMIT_WINDOW_MS: number;
    KAFKA_GROUP_ID: string;
    KAFKA_SESSION_TIMEOUT_MS: number;
    KAFKA_CONSUMER_RETRIES: number;
    OUTBOX_POLL_INTERVAL_MS: number;
    SHUTDOWN_TIMEOUT_MS: number;
  };

export interface OutboxServiceOptions {
  /** The service's name: its Postgres schema, metrics prefix and client names (`taobi-<name>`). */
  name: string;
  config: OutboxServiceConfig;
  logger: Logger;
  /** The OpenAPI document's title and description. */
  api: { title: string; description: string };
  /** The service's migrations folder. */
  migrations: string;
  /** Most Postgres connections (default 10). */
  poolMax?: number;
  /** A Redis client too (a read model), probed by `/readyz`. */
  redis?: boolean;
}

export interface OutboxService {
  app: FastifyInstance;
  /** The roles of the configured keys (read, admin, checkout, merchant), for the routes' hooks. */
  access: AccessControl;
  topics: TopicNames;
  metrics: Registry;
  kafka: Kafka;
  pool: Pool;
  producer: ProducerHandle;
  /** Applies the service's pending migrations to its schema. */
  migrate(): Promise<unknown>;
  /**
   * Connects the producer, then starts the outbox relay of the service's schema (polling every
   * OUTBOX_POLL_INTERVAL_MS unless `pollIntervalMs` says otherwise).
   */
  startRelay(
    options?: Pick<OutboxRelayOptions, 'batchSize' | 'pollIntervalMs' | 'afterPublish'>,
  ): Promise<void>;
  /** Wakes the relay after a commit that wrote to the outbox (a no-op before `startRelay`). */
  wakeRelay(): void;
  /**
   * A batch consumer of `topic` in the service's group, dead-lettering to the DLQ, reporting to the
   * app's readiness and metrics, with the configured session timeout and retries. The caller starts
   * it, and stops it from an `onClose` hook of its own.
   */
  consumer<T>(
    topic: string,
    options: Pick<BatchConsumerOptions<T>, 'schema' | 'handle' | 'partitionsConsumedConcurrently'>,
  ): BatchConsumer;
}

/**
 * The wiring every service with an outbox shares (scoring, tier, entitlement): the roles of its
 * keys, its topics, metrics registry, Kafka client and readiness probe, Postgres pool, optional
 * Redis, the fastify app probing them, the producer and the outbox relay. Each client is closed by an `onClose` hook of
 * the app, registered as it is opened, so they close in the reverse order: the relay, the
 * producer, the probe, then Postgres and Redis, after whatever the service registers later.
 */
export function createOutboxService(options: OutboxServiceOptions & { redis: true }): OutboxService & {
  redis: Redis;
};
export function createOutboxService(options: OutboxServiceOptions): OutboxService;
export function createOutboxService(options: OutboxServiceOptions): OutboxService & { redis?: Redis } {
  const { name, config, logger } = options;
  // First, so a production process holding a development key is refused before any client opens.
  const access = createAccessControl(config.TAOBI_ENV, config);
  const kafka = createKafka({ ...kafkaConnection(config), clientId: `taobi-${name}`, logger });
  const kafkaProbe = createKafkaProbe(kafka);
  const pool = createPool({
    connectionString: config.DATABASE_URL,
    logger,
    applicationName: `taobi-${name}`,
    ...(options.poolMax ? { max: options.poolMax } : {}),
  });
  const redis = options.redis
    ? createRedis({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, logger })
    : undefined;
  const metrics = createMetricsRegistry(name);
  const app = createHttpApp({
    logger,
    rateLimit: httpRateLimit(config),
    metrics,
    api: options.api,
    readiness: {
      kafka: kafkaProbe.check,
      postgres: () => pool.query('SELECT 1'),
      ...(redis ? { redis: () => redis.ping() } : {}),
    },
  });
  if (redis) closeOnAppClose(app, 'redis', () => redis.disconnect());
  closeOnAppClose(app, 'postgres', () => pool.end());
  closeOnAppClose(app, 'kafka probe', kafkaProbe.close);
  const producer = createProducerHandle(() => connectProducer(kafka));
  closeOnAppClose(app, 'producer', () => producer.close());
  let relay: OutboxRelay | undefined;
  // The batch in hand may be a read-back of sends in doubt: cut short, it leaves the lease to lapse
  // and the next holder reads the topics back before sending (as after a crash).
  closeOnAppClose(app, 'outbox relay', () => relay?.stop(), { withinMs: config.SHUTDOWN_TIMEOUT_MS / 4 });
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);

  return {
    app,
    access,
    topics,
    metrics,
    kafka,
    pool,
    ...(redis ? { redis } : {}),
    producer,
    migrate: () =>
      migrate({ databaseUrl: config.DATABASE_URL, schema: name, dir: options.migrations, logger }),
    async startRelay(relayOptions = {}) {
      await producer.get();
      relay = createOutboxRelay({
        pool,
        kafka,
        schema: name,
        producer,
        topics,
        logger,
        metrics,
        pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
        ...relayOptions,
      });
      relay.start();
    },
    wakeRelay: () => relay?.wake(),
    consumer: (topic, consumerOptions) =>
      createBatchConsumer({
        kafka,
        groupId: config.KAFKA_GROUP_ID,
        topics: [topic],
        logger,
        dlq: { producer, topic: topics.consumptionDlq },
        sessionTimeout: config.KAFKA_SESSION_TIMEOUT_MS,
        retries: config.KAFKA_CONSUMER_RETRIES,
        readiness: app.readiness,
        metrics,
        ...consumerOptions,
      }),
  };
}
