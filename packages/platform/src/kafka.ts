import {
  type Admin,
  ConfigResourceTypes,
  ConfigSource,
  Kafka,
  type KafkaConfig,
  logLevel,
  type Message,
  Partitioners,
  type Producer,
  type RecordMetadata,
  type RetryOptions,
} from 'kafkajs';
import type { Logger } from './logger';

export type { Consumer, Kafka, Message, Producer, RecordMetadata } from 'kafkajs';

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  connectionTimeout?: number;
  requestTimeout?: number;
  retry?: RetryOptions;
  /** TLS and SASL (a managed Kafka): `kafkaConnection(config)` gives them with the brokers. */
  ssl?: KafkaConfig['ssl'];
  sasl?: KafkaConfig['sasl'];
}

/** kafkajs logs go through pino, one child logger per kafkajs namespace. */
function pinoLogCreator(logger: Logger): KafkaConfig['logCreator'] {
  const base = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, logger: _name, ...context } = log;
      const entry = { namespace, ...context };
      // Our producers bound their retries on purpose (a send must fail within its deadline); each
      // failed send replaces the producer, so the sequence numbers this warning is about restart.
      if (message.startsWith('Limiting retries for the idempotent producer')) base.debug(entry, message);
      else if (level === logLevel.ERROR) base.error(entry, message);
      else if (level === logLevel.WARN) base.warn(entry, message);
      else if (level === logLevel.INFO) base.info(entry, message);
      else base.debug(entry, message);
    };
}

export function createKafka(options: KafkaOptions): Kafka {
  return new Kafka({
    brokers: options.brokers,
    clientId: options.clientId,
    connectionTimeout: options.connectionTimeout ?? 3000,
    requestTimeout: options.requestTimeout ?? 30000,
    retry: options.retry ?? { initialRetryTime: 300, retries: 8 },
    logLevel: logLevel.INFO,
    logCreator: pinoLogCreator(options.logger),
    ...(options.ssl ? { ssl: options.ssl } : {}),
    ...(options.sasl ? { sasl: options.sasl } : {}),
  });
}

/**
 * The only way records leave a Taobi service: an idempotent producer (no duplicates from its own
 * retries) that waits for every in-sync replica (`acks: -1`) before a send resolves.
 */
export async function connectProducer(
  kafka: Kafka,
  options: { retry?: RetryOptions; transactionTimeout?: number } = {},
): Promise<Producer> {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    // murmur2, as the Java client: a key lands on the same partition whoever produces it.
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
    ...(options.retry ? { retry: options.retry } : {}),
  });
  await producer.connect();
  return producer;
}

/**
 * The partition a keyed record goes to on a topic of `partitions` partitions: murmur2 of the key,
 * as every Taobi producer (and the Java client) computes it. A reader of one member's records
 * (`pnpm taobi replay --member`) reads only that partition.
 */
export function partitionForKey(key: string, partitions: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  return partitioner({
    topic: 'any',
    partitionMetadata: Array.from({ length: partitions }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    })),
    message: { key, value: null },
  });
}

export interface OutgoingRecord {
  topic: string;
  /** Partition key: the memberId, so one member's records stay in order. */
  key: string | null;
  value: unknown;
  headers?: Record<string, string>;
}

/** Publishes records to any number of topics in one `sendBatch`, acknowledged by all replicas. */
export async function publish(
  producer: Producer,
  records: readonly OutgoingRecord[],
): Promise<RecordMetadata[]> {
  if (records.length === 0) return [];
  const byTopic = new Map<string, Message[]>();
  for (const record of records) {
    const messages = byTopic.get(record.topic) ?? [];
    messages.push({
      key: record.key,
      value: JSON.stringify(record.value),
      ...(record.headers ? { headers: record.headers } : {}),
    });
    byTopic.set(record.topic, messages);
  }
  return producer.sendBatch({
    acks: -1,
    topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
  });
}

/**
 * A readiness probe for Kafka: asks the cluster to describe itself through one long-lived admin
 * client, reconnecting after a failure. It never retries: `/readyz` wants an answer now.
 */
export function createKafkaProbe(kafka: Kafka): { check: () => Promise<void>; close: () => Promise<void> } {
  let admin: Admin | undefined;
  return {
    async check() {
      try {
        if (!admin) {
          admin = kafka.admin({ retry: { retries: 0 } });
          await admin.connect();
        }
        await admin.describeCluster();
      } catch (error) {
        const stale = admin;
        admin = undefined;
        await stale?.disconnect().catch(() => undefined);
        throw error;
      }
    },
    async close() {
      await admin?.disconnect().catch(() => undefined);
      admin = undefined;
    },
  };
}

/**
 * Creates the topics that do not exist yet (existing ones are left alone), waits until every
 * partition has a leader, and fails when a topic has fewer partitions than Taobi expects (say, one
 * auto-created by a producer before this ran); more is an operator's scale-out and is accepted.
 * Retries while a freshly started broker is still electing its controller.
 */
export interface TopicToEnsure {
  topic: string;
  numPartitions: number;
  /** Configuration a new topic is created with (and `alignTopicConfigs` applies to an existing one). */
  configEntries?: readonly { name: string; value: string }[];
}

/**
 * How many copies a new topic gets on a cluster of `brokers` nodes: three where there are three
 * (a write with acks=all then needs two, so one broker may be down), else every node (local dev).
 */
export function replicationFor(brokers: number): { replicationFactor: number; minInsyncReplicas: number } {
  const replicationFactor = Math.max(1, Math.min(3, brokers));
  return { replicationFactor, minInsyncReplicas: replicationFactor >= 3 ? 2 : 1 };
}

export async function ensureTopics(
  kafka: Kafka,
  topics: readonly TopicToEnsure[],
  timeoutMs = 30_000,
): Promise<string[]> {
  const admin = kafka.admin({ retry: { retries: 10, initialRetryTime: 300 } });
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) {
      const { replicationFactor, minInsyncReplicas } = replicationFor(
        (await admin.describeCluster()).brokers.length,
      );
      // kafkajs's own `waitForLeaders` gives up on the first UNKNOWN_TOPIC_OR_PARTITION, which a
      // KRaft broker answers for a moment after creating a topic; we wait for the leaders ourselves.
      await admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((t) => ({
          topic: t.topic,
          numPartitions: t.numPartitions,
          replicationFactor,
          configEntries: [
            { name: 'min.insync.replicas', value: String(minInsyncReplicas) },
            ...(t.configEntries ?? []),
          ],
        })),
      });
    }
    const partitionCounts = await waitForLeaders(admin, topics, timeoutMs);
    for (const { topic, numPartitions } of topics) {
      const found = partitionCounts.get(topic) ?? 0;
      if (found < numPartitions) {
        throw new Error(`Kafka topic ${topic} has ${found} partitions where Taobi expects ${numPartitions}`);
      }
    }
    return missing.map((t) => t.topic);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Gives existing topics the configuration they should have (`configEntries`, e.g. the consumption
 * topic's `retention.ms`) where it differs, and returns the topics changed. Kafka's AlterConfigs
 * replaces a topic's whole set of overrides, so the overrides a topic already has are sent along.
 */
export async function alignTopicConfigs(kafka: Kafka, topics: readonly TopicToEnsure[]): Promise<string[]> {
  const wanted = topics.filter((t) => (t.configEntries ?? []).length > 0);
  if (wanted.length === 0) return [];
  const admin = kafka.admin();
  await admin.connect();
  try {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: wanted.map((t) => ({ type: ConfigResourceTypes.TOPIC, name: t.topic })),
    });
    const changed: string[] = [];
    for (const spec of wanted) {
      const entries = described.resources.find((r) => r.resourceName === spec.topic)?.configEntries ?? [];
      const overrides = new Map(
        entries
          .filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG)
          .map((e) => [e.configName, e.configValue]),
      );
      const current = new Map(entries.map((e) => [e.configName, e.configValue]));
      const differing = (spec.configEntries ?? []).filter((e) => current.get(e.name) !== e.value);
      if (differing.length === 0) continue;
      for (const entry of differing) overrides.set(entry.name, entry.value);
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: spec.topic,
            configEntries: [...overrides].map(([name, value]) => ({ name, value })),
          },
        ],
      });
      changed.push(spec.topic);
    }
    return changed;
  } finally {
    await admin.disconnect();
  }
}

const NOT_THERE_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

/** Partition count per topic, once every partition has a leader; retries while the broker catches up. */
async function waitForLeaders(
  admin: Admin,
  topics: readonly { topic: string }[],
  timeoutMs: number,
): Promise<Map<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let waitingFor = '';
    const counts = new Map<string, number>();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
      for (const { topic } of topics) {
        const partitions = metadata.topics.find((t) => t.name === topic)?.partitions ?? [];
        const led = partitions.filter((p) => p.leader >= 0).length;
        if (partitions.length === 0 || led < partitions.length) {
          waitingFor = `${topic} (${led} of ${partitions.length} partitions led)`;
        }
        counts.set(topic, partitions.length);
      }
    } catch (error) {
      const cause = error as { type?: string; originalError?: { type?: string } };
      if (!NOT_THERE_YET.has(cause.type ?? cause.originalError?.type ?? '')) throw error;
      waitingFor = (error as Error).message;
    }
    if (!waitingFor) return counts;
    if (Date.now() > deadline)
      throw new Error(`Kafka topics have no leader after ${timeoutMs} ms: ${waitingFor}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A producer that is replaced after a failed send. kafkajs rolls an idempotent producer's sequence
 * numbers back when a send fails; if the broker had in fact written that batch, a later, different
 * batch reusing those numbers would be taken for a duplicate and silently dropped. Retiring the
 * producer after any failure gives the next send a fresh producer id, which rules that out.
 * Every publisher in Taobi (ingest, outbox relays, dead letters) sends through one of these.
 */
export interface ProducerHandle {
  /** The connected producer; connects one (once, shared by concurrent callers) when there is none. */
  get(): Promise<Producer>;
  /** `publish` through the current producer; after a failure the producer is retired. */
  publish(records: readonly OutgoingRecord[]): Promise<RecordMetadata[]>;
  /** Drops the current producer (disconnecting it in the background). */
  retire(): void;
  /** Disconnects; a producer still connecting is disconnected when it arrives. */
  close(): Promise<void>;
}

export function createProducerHandle(connect: () => Promise<Producer>): ProducerHandle {
  let current: Producer | undefined;
  let connecting: Promise<Producer> | undefined;
  let closed = false;

  const handle: ProducerHandle = {
    get() {
      if (closed) return Promise.reject(new Error('the producer is closed'));
      if (current) return Promise.resolve(current);
      connecting ??= connect().then(
        (producer) => {
          connecting = undefined;
          if (closed) {
            void producer.disconnect().catch(() => undefined);
            throw new Error('the producer is closed');
          }
          current = producer;
          return producer;
        },
        (error: unknown) => {
          connecting = undefined;
          throw error;
        },
      );
      return connecting;
    },
    async publish(records) {
      const producer = await handle.get();
      try {
        return await publish(producer, records);
      } catch (error) {
        if (current === producer) handle.retire();
        throw error;
      }
    },
    retire() {
      const stale = current;
      current = undefined;
      void stale?.disconnect().catch(() => undefined);
    },
    async close() {
      closed = true;
      const producer = current ?? (await connecting?.catch(() => undefined));
      current = undefined;
      await producer?.disconnect();
    },
  };
  return handle;
}
