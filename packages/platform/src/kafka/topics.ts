import { type Admin, ConfigResourceTypes, ConfigSource, type Kafka } from 'kafkajs';
import { retry } from '../retry';
import { kafkaSeededWith } from './client';

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

/**
 * Creates the topics that do not exist yet (existing ones are left alone), waits until every
 * partition has a leader, and fails when a topic has fewer partitions than Taobi expects (say, one
 * auto-created by a producer before this ran); more is an operator's scale-out and is accepted.
 * Retries while a freshly started broker is still electing its controller. On a cluster, it returns
 * once every broker knows the topics and their leaders (`waitForTopicsOnEveryBroker`), all within
 * `timeoutMs`. `kafka` must come from `createKafka`.
 */
export async function ensureTopics(
  kafka: Kafka,
  topics: readonly TopicToEnsure[],
  timeoutMs = 30_000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
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
    await waitForTopicsOnEveryBroker(
      kafka,
      topics.map((t) => t.topic),
      Math.max(0, deadline - Date.now()),
    );
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

class LeadersPending extends Error {}

/** Partition count per topic, when every partition of each has a leader; else LeadersPending. */
function ledPartitions(
  metadata: Awaited<ReturnType<Admin['fetchTopicMetadata']>>,
  topics: readonly string[],
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const topic of topics) {
    const partitions = metadata.topics.find((t) => t.name === topic)?.partitions ?? [];
    const led = partitions.filter((p) => p.leader >= 0).length;
    if (partitions.length === 0 || led < partitions.length) {
      throw new LeadersPending(`${topic} (${led} of ${partitions.length} partitions led)`);
    }
    counts.set(topic, partitions.length);
  }
  return counts;
}

/** Partition count per topic, once every partition has a leader; retries while the broker catches up. */
async function waitForLeaders(
  admin: Admin,
  topics: readonly { topic: string }[],
  timeoutMs: number,
): Promise<Map<string, number>> {
  const notThereYet = (error: unknown) => {
    const cause = error as { type?: string; originalError?: { type?: string } };
    return (
      error instanceof LeadersPending || NOT_THERE_YET.has(cause.type ?? cause.originalError?.type ?? '')
    );
  };
  const leaders = async () =>
    ledPartitions(
      await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) }),
      topics.map((t) => t.topic),
    );
  try {
    return await retry(leaders, {
      attempts: Number.POSITIVE_INFINITY,
      deadlineMs: timeoutMs,
      delayMs: 100,
      factor: 1,
      retryIf: notThereYet,
    });
  } catch (error) {
    if (!notThereYet(error)) throw error;
    throw new Error(`Kafka topics have no leader after ${timeoutMs} ms: ${(error as Error).message}`);
  }
}

/**
 * Waits until every broker of the cluster answers a metadata request for `topics` with every
 * partition led. A topic just created reaches each broker's metadata a moment apart, and a client
 * asking a broker that does not know it yet gets UNKNOWN_TOPIC_OR_PARTITION (kafkajs' subscribe does
 * not retry that). Fails after `timeoutMs` naming a topic and the broker that still lacks it.
 * `kafka` must come from `createKafka`.
 */
export async function waitForTopicsOnEveryBroker(
  kafka: Kafka,
  topics: readonly string[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const admin = kafka.admin();
  await admin.connect();
  let brokers: { nodeId: number; host: string; port: number }[];
  try {
    brokers = (await admin.describeCluster()).brokers;
  } finally {
    await admin.disconnect();
  }
  await Promise.all(
    brokers.map(async ({ nodeId, host, port }) => {
      const address = `${host}:${port}`;
      const seeded = kafkaSeededWith(kafka, address);
      try {
        await retry(() => ledOn(seeded, topics), {
          attempts: Number.POSITIVE_INFINITY,
          deadlineMs: Math.max(0, deadline - Date.now()),
          delayMs: 200,
          factor: 1,
          // Anything kafkajs does not call final: a broker catching up, a connection refused.
          retryIf: (error) => (error as { retriable?: boolean }).retriable !== false,
        });
      } catch (error) {
        if ((error as { retriable?: boolean }).retriable === false) throw error;
        // Which topics this broker lacks: one request each (UNKNOWN_TOPIC_OR_PARTITION names none).
        const lacking: string[] = [];
        for (const topic of topics) {
          const why = await ledOn(seeded, [topic]).then(
            () => undefined,
            (e: Error & { type?: string }) =>
              e instanceof LeadersPending ? e.message : `${topic} (${e.type ?? e.message})`,
          );
          if (why) lacking.push(why);
        }
        const last = error as Error & { type?: string };
        throw new Error(
          `Kafka broker ${nodeId} (${address}) still lacks a topic or its leaders after ${timeoutMs} ms: ${
            lacking.length > 0 ? lacking.join(', ') : `${topics.join(', ')} (${last.type ?? last.message})`
          }`,
        );
      }
    }),
  );
}

/**
 * Resolves when the broker `seeded` is seeded with answers a metadata request for `topics` with
 * every partition led. A fresh client knows no broker but its seed, so kafkajs refreshes its
 * metadata through the seed before anything else, and that refresh throws where the seed lacks a
 * topic (UNKNOWN_TOPIC_OR_PARTITION) or a leader (LEADER_NOT_AVAILABLE); the answer returned after
 * it may come from any broker, and its leaders are checked too.
 */
async function ledOn(seeded: Kafka, topics: readonly string[]): Promise<void> {
  const admin = seeded.admin({ retry: { retries: 0 } });
  await admin.connect();
  try {
    ledPartitions(await admin.fetchTopicMetadata({ topics: [...topics] }), topics);
  } finally {
    await admin.disconnect();
  }
}
