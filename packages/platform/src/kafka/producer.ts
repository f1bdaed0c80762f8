import { type Context, context, propagation, type Span, trace } from '@opentelemetry/api';
import type { Kafka, Message, Producer, RecordMetadata, RetryOptions } from 'kafkajs';
import { endSpans, spansExported, startKafkaSpan } from '../trace-context';
import { keyPartitioner } from './partition';

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
    createPartitioner: keyPartitioner,
    allowAutoTopicCreation: false,
    ...(options.retry ? { retry: options.retry } : {}),
  });
  await producer.connect();
  return producer;
}

export interface OutgoingRecord {
  topic: string;
  /** Partition key: the memberId, so one member's records stay in order. */
  key: string | null;
  value: unknown;
  headers?: Record<string, string>;
  /** The trace the record continues (its `send` span's parent): the active context by default. */
  traceContext?: Context;
}

/**
 * Publishes records to any number of topics in one `sendBatch`, acknowledged by all replicas.
 *
 * Each record gets a `send <topic>` span under its own trace context (records of many requests, or
 * of many outbox rows, share one `sendBatch`), and that span's W3C `traceparent` in its headers,
 * which the consumer continues. kafkajs itself is not instrumented: one instrumented `sendBatch`
 * could only give all its records the same parent.
 */
export async function publish(
  producer: Producer,
  records: readonly OutgoingRecord[],
): Promise<RecordMetadata[]> {
  if (records.length === 0) return [];
  const byTopic = new Map<string, Message[]>();
  const spans: Span[] = [];
  // Once per record, with many records per send: no object spreads (a runtime call each on Node 20).
  for (const record of records) {
    let messages = byTopic.get(record.topic);
    if (!messages) {
      messages = [];
      byTopic.set(record.topic, messages);
    }
    const parent = record.traceContext ?? context.active();
    const span = startKafkaSpan(
      'send',
      record.topic,
      parent,
      spansExported() && record.key !== null
        ? { attributes: { 'messaging.kafka.message.key': record.key } }
        : undefined,
    );
    spans.push(span);
    const headers: Record<string, string> = Object.assign({}, record.headers);
    propagation.inject(trace.setSpan(parent, span), headers);
    const message: Message = { key: record.key, value: JSON.stringify(record.value) };
    if (Object.keys(headers).length > 0) message.headers = headers;
    messages.push(message);
  }
  try {
    const sent = await producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
    endSpans(spans);
    return sent;
  } catch (error) {
    endSpans(spans, error);
    throw error;
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
