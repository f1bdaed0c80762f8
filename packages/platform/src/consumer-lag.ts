import type { Admin, Kafka } from 'kafkajs';

export interface GroupLag {
  groupId: string;
  topic: string;
  /** Records on the topic the group has not committed yet. */
  lag: number;
  /** The group's committed offsets summed over partitions: it grows as the group consumes. */
  position: number;
  /** False when the group has committed nothing on the topic (not running, or under another name). */
  committed: boolean;
}

export interface PartitionLag {
  partition: number;
  /** Where the group goes on from: its committed offset, or the log start when it has none. */
  position: number;
  /** The partition's end offset (high watermark). */
  end: number;
  lag: number;
  committed: boolean;
}

/**
 * How far a group is behind on each partition of a topic: end offset minus committed offset (a
 * partition the group has not committed counts from the log start).
 */
export async function partitionLags(admin: Admin, groupId: string, topic: string): Promise<PartitionLag[]> {
  const ends = await admin.fetchTopicOffsets(topic);
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return ends.map((end) => {
    const at = Number(offsets?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
    // Negative: nothing committed (-1), or a reset to the earliest offset not yet consumed (-2).
    const position = at < 0 ? Number(end.low) : at;
    const high = Number(end.high);
    return {
      partition: end.partition,
      position,
      end: high,
      lag: Math.max(0, high - position),
      committed: at >= 0,
    };
  });
}

/**
 * How far each consumer group is behind on its topic, summed over partitions. Zero lag means the
 * group has handled everything produced so far.
 */
export async function consumerGroupLags(
  kafka: Kafka,
  groups: readonly { groupId: string; topic: string }[],
): Promise<GroupLag[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const lags: GroupLag[] = [];
    for (const { groupId, topic } of groups) {
      const lag: GroupLag = { groupId, topic, lag: 0, position: 0, committed: false };
      for (const partition of await partitionLags(admin, groupId, topic)) {
        lag.committed ||= partition.committed;
        lag.position += partition.position;
        lag.lag += partition.lag;
      }
      lags.push(lag);
    }
    return lags;
  } finally {
    await admin.disconnect();
  }
}

/** The lag of every pair given, summed. */
export async function consumerGroupLag(
  kafka: Kafka,
  groups: readonly { groupId: string; topic: string }[],
): Promise<number> {
  return (await consumerGroupLags(kafka, groups)).reduce((sum, group) => sum + group.lag, 0);
}
