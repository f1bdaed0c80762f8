/**
 * Every Kafka topic Taobi uses. Keys are always the memberId (null only on the DLQ when a record
 * had no readable member), so one member's records stay in order on one partition.
 */
export const TOPICS = {
  consumption: {
    name: 'taobi.consumption.v1',
    partitions: 6,
    producers: 'the ingest services (`ingest-<source>`, one per source)',
    consumers: 'scoring',
    record: 'one canonical consumption event: an order completed or refunded',
  },
  scoreChanged: {
    name: 'taobi.score-changed.v1',
    partitions: 6,
    producers: 'scoring (outbox)',
    consumers: 'tier',
    record: "a member's score moved: previous and new score, breakdown, version, cause, expiry forecast",
  },
  tierChanged: {
    name: 'taobi.tier-changed.v1',
    partitions: 6,
    producers: 'tier (outbox)',
    consumers: 'entitlement, downstream apps',
    record: 'a member was placed in a tier (first score) or changed tier: from, to, direction, reason, score',
  },
  entitlementChanged: {
    name: 'taobi.entitlement-changed.v1',
    partitions: 6,
    producers: 'entitlement (outbox)',
    consumers: 'downstream apps',
    record:
      'a benefit was granted, revoked, used or expired; 88VIP eligibility changed or activated; a merchant offer published, withdrawn or redeemed',
  },
  consumptionDlq: {
    name: 'taobi.consumption.dlq.v1',
    partitions: 3,
    producers: 'every consumer',
    consumers: 'operators',
    record: 'a record that could not be processed: reason, origin, original bytes',
  },
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

/**
 * The consumer group of each service that consumes a Taobi topic, and the topic it consumes. One
 * place for the services' default `KAFKA_GROUP_ID`, the `npm start` supervisor and the CLI.
 */
export const CONSUMER_GROUPS = {
  scoring: { name: 'taobi-scoring', topic: 'consumption' },
  tier: { name: 'taobi-tier', topic: 'scoreChanged' },
  entitlement: { name: 'taobi-entitlement', topic: 'tierChanged' },
} as const satisfies Record<string, { name: string; topic: TopicKey }>;

export type ConsumingService = keyof typeof CONSUMER_GROUPS;

/**
 * A service's consumer group under the stack's prefix, like its topics: a side stack
 * (KAFKA_TOPIC_PREFIX) never shares a group with another stack on the same broker.
 */
export function consumerGroupId(service: ConsumingService, prefix = ''): string {
  return `${prefix}${CONSUMER_GROUPS[service].name}`;
}

/** Every consuming service's group and the topic it consumes, under `prefix`. */
export function consumerGroups(prefix = ''): { service: ConsumingService; groupId: string; topic: string }[] {
  const topics = topicNames(prefix);
  return (Object.keys(CONSUMER_GROUPS) as ConsumingService[]).map((service) => ({
    service,
    groupId: consumerGroupId(service, prefix),
    topic: topics[CONSUMER_GROUPS[service].topic],
  }));
}

/** What a topic-creation tool needs: each topic's full name and partition count. */
export function topicSpecs(prefix = ''): { topic: string; numPartitions: number }[] {
  return Object.values(TOPICS).map((topic) => ({
    topic: `${prefix}${topic.name}`,
    numPartitions: topic.partitions,
  }));
}

/** The topic reference table in the README, generated from `TOPICS` (a test keeps it current). */
export function topicReferenceMarkdown(): string {
  const rows = Object.values(TOPICS).map(
    (t) =>
      `| \`${t.name}\` | ${t.partitions} | ${t.producers} | ${t.consumers} | ${t.record} | [schema](packages/contracts/json-schema/${t.name}.json) |`,
  );
  return [
    '| topic | partitions | produced by | consumed by | one record is | JSON Schema |',
    '| --- | ---: | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
