/**
 * Every Kafka topic Taobi uses. Keys are always the memberId (null only on the DLQ when a record
 * had no readable member), so one member's records stay in order on one partition.
 */
export const TOPICS = {
  consumption: { name: 'taobi.consumption.v1', partitions: 6 },
  scoreChanged: { name: 'taobi.score-changed.v1', partitions: 6 },
  tierChanged: { name: 'taobi.tier-changed.v1', partitions: 6 },
  entitlementChanged: { name: 'taobi.entitlement-changed.v1', partitions: 6 },
  consumptionDlq: { name: 'taobi.consumption.dlq.v1', partitions: 3 },
} as const;

export type TopicKey = keyof typeof TOPICS;
export type TopicNames = Record<TopicKey, string>;

/**
 * Topic names under an optional prefix. Production uses no prefix; tests and side-by-side stacks
 * on one broker use a prefix of their own.
 */
export function topicNames(prefix = ''): TopicNames {
  return Object.fromEntries(
    Object.entries(TOPICS).map(([key, topic]) => [key, `${prefix}${topic.name}`]),
  ) as TopicNames;
}

/** What a topic-creation tool needs: each topic's full name and partition count. */
export function topicSpecs(prefix = ''): { topic: string; numPartitions: number }[] {
  return Object.values(TOPICS).map((topic) => ({
    topic: `${prefix}${topic.name}`,
    numPartitions: topic.partitions,
  }));
}
