import type { ConsumptionEvent, TopicNames } from '@taobi/contracts';
import { type BaseConfig, type Logger, loadConfig, type Service } from '@taobi/platform';
import type { z } from 'zod';
import { createTestTopics, testEndpoints, testKafka, testLogger, uniqueId } from './kit';
import { TopicReader } from './topic-reader';

/** What `app.inject` answers (light-my-request's response, as much as the tests read). */
export interface InjectedResponse {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: as light-my-request: tests read arbitrary bodies
  json: <T = any>() => T;
}

export interface IngestBed {
  service: Service;
  topics: TopicNames;
  /** Reads the consumption topic of this test's prefix from the beginning. */
  reader: TopicReader<ConsumptionEvent>;
  /** POSTs `body` as JSON to /v1/events with `Authorization: Bearer <key>` (no header if null). */
  post: (body: unknown, key?: string | null, headers?: Record<string, string>) => Promise<InjectedResponse>;
  close: () => Promise<void>;
}

/**
 * One ingest service under test, in-process (`app.inject`), against the real broker, on topics of
 * the test's own prefix, with a reader on its consumption topic.
 */
export async function startIngestBed<C extends BaseConfig>(options: {
  schema: z.ZodType<C>;
  build: (config: C, logger: Logger) => Service;
  /** The service's own key, used by `post` unless another is given. */
  key: string;
  env?: Record<string, string>;
  brokers?: string[];
}): Promise<IngestBed> {
  const brokers = options.brokers ?? testEndpoints().kafkaBrokers;
  const kafka = testKafka(brokers);
  const { prefix, topics } = await createTestTopics(kafka);
  const config = loadConfig(options.schema, {
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_TOPIC_PREFIX: prefix,
    ...options.env,
  });
  const service = options.build(config, testLogger('ingest'));
  await service.start();
  const reader = await TopicReader.start<ConsumptionEvent>(topics.consumption, kafka);
  return {
    service,
    topics,
    reader,
    post: async (body, key = options.key, headers = {}) =>
      (await service.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: {
          'content-type': 'application/json',
          ...(key === null ? {} : { authorization: `Bearer ${key}` }),
          ...headers,
        },
        payload: typeof body === 'string' ? body : JSON.stringify(body),
      })) as unknown as InjectedResponse,
    close: async () => {
      await reader.close();
      await service.app.close();
      await service.stop();
    },
  };
}

/** A valid ingest body: a completed order a minute ago, with fresh ids, overridable. */
export function ingestOrder(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'order.completed',
    orderId: uniqueId('o'),
    memberId: uniqueId('m'),
    amount: 12800,
    currency: 'CNY',
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
    ...overrides,
  };
}

/** A valid refund of `order`, with a fresh refundId, overridable. */
export function ingestRefund(
  order: Record<string, unknown>,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    type: 'order.refunded',
    orderId: order.orderId,
    refundId: uniqueId('rf'),
    memberId: order.memberId,
    amount: 1000,
    currency: 'CNY',
    occurredAt: new Date(Date.now() - 30_000).toISOString(),
    ...overrides,
  };
}
