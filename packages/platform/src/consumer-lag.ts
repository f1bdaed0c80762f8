import type { Kafka } from 'kafkajs';

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

/**
 * How far each consumer group is behind on its topic (a partition the group has not committed
 * counts from the log start). Zero lag means the group has handled everything produced so far.
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
      const ends = await admin.fetchTopicOffsets(topic);
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const lag: GroupLag = { groupId, topic, lag: 0, position: 0, committed: false };
      for (const end of ends) {
        const at = Number(offsets?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
        // Negative: nothing committed (-1), or a reset to the earliest offset not yet consumed (-2).
        const done = at < 0 ? Number(end.low) : at;
        lag.committed ||= at >= 0;
        lag.position += done;
        lag.lag += Math.max(0, Number(end.high) - done);
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
