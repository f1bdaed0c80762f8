import { z } from 'zod';
import { RECORD_SCHEMAS } from './json-schema';
import { CONSUMER_GROUPS, type ConsumingService, TOPICS, type TopicKey } from './topics';

/** The Kafka bindings version the document's bindings follow. */
const KAFKA_BINDINGS = '0.5.0';

/**
 * Who publishes each topic. The consumption topic has one ingest service per source of the rule set
 * (sources are data), named `ingest-<source>`; the DLQ is written by every consuming service.
 */
const PUBLISHERS: Record<TopicKey, { services: readonly string[]; how: string }> = {
  consumption: {
    services: ['ingest-<source>'],
    how: 'each ingest service (one per source of the rule set, e.g. ingest-ecommerce) publishes the events of its source once Kafka acknowledges them (idempotent producer, acks all), before answering 202',
  },
  scoreChanged: { services: ['scoring'], how: 'scoring publishes through its transactional outbox' },
  tierChanged: { services: ['tier'], how: 'tier publishes through its transactional outbox' },
  entitlementChanged: {
    services: ['entitlement'],
    how: 'entitlement publishes through its transactional outbox',
  },
  consumptionDlq: {
    services: Object.keys(CONSUMER_GROUPS),
    how: 'every consuming service letters the records it cannot process, before committing their offsets',
  },
};

/** The headers a record may carry (all optional: a consumer never needs one to process a record). */
const recordHeadersSchema = z
  .object({
    traceparent: z
      .string()
      .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)
      .optional()
      .describe(
        'W3C trace context of the work that produced the record (an ingest request, a consumed record), when the producer traced it.',
      ),
    'taobi-event-id': z
      .string()
      .optional()
      .describe(
        "The record's eventId, on records published by an outbox relay: the relay reads it back to find what is already on the topic before re-sending a row whose earlier send is in doubt (docs/design.md).",
      ),
  })
  .describe('Kafka record headers, UTF-8.');

/** A zod schema as an AsyncAPI schema object (JSON Schema draft-07), without `$schema`. */
function schemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    target: 'draft-7',
    unrepresentable: 'any',
  });
  return rest;
}

const capitalised = (key: string) => key.charAt(0).toUpperCase() + key.slice(1);

/**
 * The AsyncAPI 3.0 document of every Taobi topic (docs/asyncapi.json, written by
 * `pnpm contracts:json-schema`): each topic's channel with its partitions and configuration, its
 * message (key, headers, payload from the zod schema), the services that publish it and the consumer
 * group of each service that subscribes.
 */
export function asyncApiDocument(): Record<string, unknown> {
  const keys = Object.keys(TOPICS) as TopicKey[];
  const channels = Object.fromEntries(
    keys.map((key) => {
      const topic = TOPICS[key];
      const configuration = 'retentionMs' in topic ? { 'retention.ms': topic.retentionMs } : {};
      return [
        key,
        {
          address: topic.name,
          title: topic.name,
          description: `One record is ${topic.record}. Produced by ${topic.producers}; consumed by ${topic.consumers}.`,
          messages: { [key]: { $ref: `#/components/messages/${key}` } },
          bindings: {
            kafka: {
              topic: topic.name,
              partitions: topic.partitions,
              ...(Object.keys(configuration).length > 0 ? { topicConfiguration: configuration } : {}),
              bindingVersion: KAFKA_BINDINGS,
            },
          },
        },
      ];
    }),
  );

  const messages = Object.fromEntries(
    keys.map((key) => [
      key,
      {
        name: key,
        title: TOPICS[key].name,
        summary: TOPICS[key].record,
        contentType: 'application/json',
        headers: schemaOf(recordHeadersSchema),
        payload: {
          ...schemaOf(RECORD_SCHEMAS[key]),
          $id: `https://taobi.dev/schemas/${TOPICS[key].name}.json`,
        },
        bindings: {
          kafka: {
            key:
              key === 'consumptionDlq'
                ? {
                    type: ['string', 'null'],
                    description: 'The memberId, or null when the record had none readable.',
                  }
                : {
                    type: 'string',
                    description: "The memberId: one member's records stay in order on one partition.",
                  },
            bindingVersion: KAFKA_BINDINGS,
          },
        },
      },
    ]),
  );

  const send = keys.flatMap((key) =>
    PUBLISHERS[key].services.map((service) => [
      `${service.replace(/[^a-z]/g, '')}Publishes${capitalised(key)}`,
      {
        action: 'send',
        channel: { $ref: `#/channels/${key}` },
        title: `${service} publishes ${TOPICS[key].name}`,
        description: PUBLISHERS[key].how,
        messages: [{ $ref: `#/channels/${key}/messages/${key}` }],
      },
    ]),
  );
  const receive = (Object.keys(CONSUMER_GROUPS) as ConsumingService[]).map((service) => {
    const { name, topic } = CONSUMER_GROUPS[service];
    return [
      `${service}Consumes${capitalised(topic)}`,
      {
        action: 'receive',
        channel: { $ref: `#/channels/${topic}` },
        title: `${service} consumes ${TOPICS[topic].name}`,
        description: `Consumer group \`${name}\` (prefixed like the topics on a side stack); a record it cannot process goes to ${TOPICS.consumptionDlq.name}.`,
        messages: [{ $ref: `#/channels/${topic}/messages/${topic}` }],
        bindings: { kafka: { groupId: { type: 'string', enum: [name] }, bindingVersion: KAFKA_BINDINGS } },
      },
    ];
  });

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Taobi topics',
      version: '1',
      description:
        'Every Kafka topic of Taobi, generated from packages/contracts (`pnpm contracts:json-schema`). Every record is JSON with `eventId` (stable: consumers dedupe on it), `schemaVersion`, `occurredAt` and `memberId`, keyed by `memberId`. Delivery is at least once: dedupe on `eventId`.',
    },
    defaultContentType: 'application/json',
    servers: {
      local: {
        host: '127.0.0.1:9092',
        protocol: 'kafka',
        description: 'The local stack (`npm start`); a deployment sets KAFKA_BROKERS.',
      },
    },
    channels,
    operations: Object.fromEntries([...send, ...receive]),
    components: { messages },
  };
}
