import { type Context, context, type Span, trace } from '@opentelemetry/api';
import { type DeadLetter, deadLetterEventId } from '@taobi/contracts';
import type { Consumer, EachBatchPayload, IHeaders, Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import { createConsumerMetrics } from './consumer-metrics';
import { createConsumerWatchdog, rejoinCause } from './consumer-watchdog';
import { type FieldError, fieldErrorsFromZod } from './errors';
import type { ProducerHandle } from './kafka/producer';
import type { Logger } from './logger';
import type { Readiness } from './readiness';
import {
  contextFromTraceparent,
  endSpans,
  headerValue,
  startKafkaSpan,
  TRACEPARENT,
  withRecordTraces,
} from './trace-context';

export interface ConsumedRecord<T> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: T;
  headers: IHeaders;
  /** The record's Kafka timestamp (ms since the epoch): when its producer sent it. */
  timestamp: number;
}

export interface BatchContext {
  topic: string;
  partition: number;
  /** Call during long work so the group coordinator does not think the consumer died. */
  heartbeat: () => Promise<void>;
}

/** A valid record the handler could not process for a domain reason (it was not stored). */
export interface RejectedRecord<T> {
  record: ConsumedRecord<T>;
  reason: string;
  errors?: FieldError[];
  /** The version the handler kept instead, when the record conflicts with it (`storedValue`). */
  storedValue?: Record<string, unknown>;
}

/** What a handler may report back: records to send to the DLQ before the offsets are committed. */
export interface BatchOutcome<T> {
  rejected?: RejectedRecord<T>[];
}

export interface BatchConsumerOptions<T> {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  logger: Logger;
  /** Every record is `safeParse`d at the door; what fails goes to the DLQ, never to `handle`. */
  schema: z.ZodType<T>;
  /**
   * A check accepting exactly what `schema` accepts, several times faster (ajv compiled from it:
   * `@taobi/contracts` compiled.ts): a value it accepts is handled as it is, one it refuses goes
   * to `schema`, which names the field for the DLQ.
   */
  check?: (value: unknown) => value is T;
  dlq: { producer: ProducerHandle; topic: string };
  /**
   * Processes the valid records of one partition's batch. Offsets are committed only after it
   * resolves; if it throws, nothing of the batch is committed and the batch is delivered again.
   * Records it reports as rejected go to the DLQ (with its reason) before the offsets are committed.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler that rejects nothing just returns.
  handle: (records: ConsumedRecord<T>[], context: BatchContext) => Promise<void | BatchOutcome<T>>;
  /** A new group starts at the earliest offset (default) so no history is skipped. */
  fromBeginning?: boolean;
  partitionsConsumedConcurrently?: number;
  sessionTimeout?: number;
  /**
   * How long a fetch waits on an idle partition. Shutdown waits for the fetch in flight, so this
   * bounds how long SIGTERM takes on a quiet topic (kafkajs' default is 5 s).
   */
  maxWaitTimeInMs?: number;
  /** Fetch sizes (kafkajs defaults: 1 MB per partition, 10 MB per fetch): larger batches, fewer commits. */
  maxBytesPerPartition?: number;
  maxBytes?: number;
  /**
   * Where the consumer reports its state (`app.readiness`), under `consumer:<groupId>`: `joining`
   * until it has joined its group, then `ok`; `dead: <why>` once kafkajs gave up on it, which also
   * runs the fatal listeners (`runService` exits 1 so the supervisor restarts the process).
   */
  readiness: Readiness;
  /** Where the consumer's lag and dead letters are counted (see consumer-metrics.ts). */
  metrics?: Registry;
  /**
   * How many times a failing batch (or fetch) is retried, with back-off from 300 ms doubling to
   * 30 s, before the consumer gives up for good (default 10, about two minutes).
   */
  retries?: number;
  /**
   * How long the consumer may go without a heartbeat accepted by its group coordinator before it
   * declares itself dead, so the supervisor restarts the process (consumer-watchdog.ts). Default
   * three session timeouts plus kafkajs' rebalance timeout (60 s): 150 s with the 30 s session.
   */
  stallTimeoutMs?: number;
}

export interface BatchConsumer {
  readonly consumer: Consumer;
  /** The name it reports its readiness under: `consumer:<groupId>`. */
  readonly name: string;
  start(): Promise<void>;
  /** Stops fetching, lets the batch in hand finish and commit (and any commit in flight land), then leaves the group. */
  stop(): Promise<void>;
}

type Parsed<T> =
  | { ok: true; value: T }
  | { ok: false; reason: string; errors: DeadLetter['errors']; memberId: string | null };

function parseRecord<T>(
  schema: z.ZodType<T>,
  raw: Buffer | null,
  check?: (value: unknown) => value is T,
): Parsed<T> {
  if (raw === null) return { ok: false, reason: 'empty record value', errors: [], memberId: null };
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    return { ok: false, reason: 'record value is not JSON', errors: [], memberId: null };
  }
  if (check?.(json)) return { ok: true, value: json };
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, value: result.data };
  const memberId =
    typeof (json as { memberId?: unknown })?.memberId === 'string'
      ? (json as { memberId: string }).memberId
      : null;
  return {
    ok: false,
    reason: 'record does not match its schema',
    errors: fieldErrorsFromZod(result.error.issues),
    memberId,
  };
}

function deadLetter(input: {
  groupId: string;
  origin: DeadLetter['origin'];
  memberId: string | null;
  reason: string;
  errors: DeadLetter['errors'];
  originalValue: Buffer | null;
  storedValue?: Record<string, unknown>;
}): DeadLetter {
  return {
    eventId: deadLetterEventId(input.groupId, input.origin),
    schemaVersion: 1,
    memberId: typeof input.memberId === 'string' ? input.memberId : null,
    occurredAt: new Date().toISOString(),
    consumerGroup: input.groupId,
    origin: input.origin,
    reason: input.reason,
    errors: input.errors,
    originalValue: input.originalValue?.toString('base64') ?? null,
    ...(input.storedValue ? { storedValue: input.storedValue } : {}),
  };
}

/**
 * How often a batch in the handler asks for a heartbeat. kafkajs sends one only once its
 * `heartbeatInterval` (3 s) has passed since the last, so asking every 3 s skips every other beat
 * (a 6 s session then expires); asking every second sends one every 3-4 s.
 */
const HEARTBEAT_DURING_BATCH_MS = 1000;

export function createBatchConsumer<T>(options: BatchConsumerOptions<T>): BatchConsumer {
  const log = options.logger.child({ component: 'consumer', groupId: options.groupId });
  const name = `consumer:${options.groupId}`;
  const { readiness } = options;
  const metrics = options.metrics
    ? createConsumerMetrics({
        registry: options.metrics,
        kafka: options.kafka,
        groupId: options.groupId,
        topics: options.topics,
        logger: options.logger,
      })
    : undefined;
  const consumer = options.kafka.consumer({
    groupId: options.groupId,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: options.maxWaitTimeInMs ?? 1000,
    ...(options.maxBytesPerPartition ? { maxBytesPerPartition: options.maxBytesPerPartition } : {}),
    ...(options.maxBytes ? { maxBytes: options.maxBytes } : {}),
    ...(options.sessionTimeout ? { sessionTimeout: options.sessionTimeout } : {}),
    retry: {
      initialRetryTime: 300,
      maxRetryTime: 30_000,
      retries: options.retries ?? 10,
      // kafkajs would restart a consumer whose retries ran out, forever and in-process: a deleted
      // topic makes that three crashes a second, a poison batch an endless loop nobody sees. Once
      // the retry budget is spent, the consumer is dead and the supervisor restarts the process.
      restartOnFailure: async () => false,
    },
  });
  readiness.set(name, 'not started');
  /** Each partition's offset commit in flight (see `settleCommit`). */
  const commits = new Map<number, Promise<void>>();
  let stopping = false;
  const watchdog = createConsumerWatchdog({
    consumer,
    groupId: options.groupId,
    stallTimeoutMs: options.stallTimeoutMs ?? 3 * (options.sessionTimeout ?? 30_000) + 60_000,
    logger: log,
    metrics: options.metrics,
    onStall: (error) => readiness.fatal(name, error),
  });

  consumer.on(consumer.events.GROUP_JOIN, () => {
    // A rejoin reads the committed offsets again: a commit that failed before it is moot (its batch
    // is redelivered), and must not fail a batch of the new assignment.
    commits.clear();
    readiness.set(name, 'ok');
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) {
      log.error({ err: payload.error }, 'consumer crashed; kafkajs restarts it');
      readiness.set(name, 'restarting');
      return;
    }
    watchdog.disarm();
    log.fatal({ err: payload.error, consumer: name }, 'consumer crashed and will not restart');
    readiness.fatal(name, payload.error);
  });

  /**
   * Tracing: each record gets a `process <topic>` span continuing the trace of its `traceparent`
   * header (so the record's trace runs on through this service), and the batch, handled as a whole
   * (one transaction), runs in a `process <topic> batch` span linked to every record's span: its
   * Postgres spans and log lines are in that trace. The handler sees each key's record trace
   * (`withRecordTraces`): an outbox row about a member continues the trace of that member's record,
   * and a dead letter continues the trace of the record it holds.
   */
  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0 || !payload.isRunning() || payload.isStale()) return;
    // The group is rebalancing: rejoin now rather than fold batches whose commit will fail.
    const rejoin = watchdog.rejoinError();
    if (rejoin) throw rejoin;
    const traces = new Map<string, Context>();
    const spans: Span[] = [];
    for (const message of batch.messages) {
      const parent = contextFromTraceparent(headerValue(message.headers?.[TRACEPARENT]));
      const span = startKafkaSpan('process', batch.topic, parent, {
        attributes: {
          'messaging.consumer.group.name': options.groupId,
          'messaging.destination.partition.id': String(batch.partition),
          'messaging.kafka.offset': Number(message.offset),
          ...(message.key ? { 'messaging.kafka.message.key': message.key.toString('utf8') } : {}),
        },
      });
      spans.push(span);
      traces.set(message.offset, trace.setSpan(parent, span));
    }
    const batchSpan = startKafkaSpan('process', batch.topic, context.active(), {
      attributes: { 'messaging.batch.message_count': batch.messages.length },
      links: spans.map((span) => ({ context: span.spanContext() })),
    });
    batchSpan.updateName(`process ${batch.topic} batch`);
    let failure: unknown;
    try {
      await context.with(trace.setSpan(context.active(), batchSpan), () => handleBatch(payload, traces));
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      endSpans([...spans, batchSpan], failure);
    }
  }

  async function handleBatch(payload: EachBatchPayload, traces: ReadonlyMap<string, Context>): Promise<void> {
    const { batch } = payload;
    await settleCommit(batch.partition);
    const joins = watchdog.joins();
    /** kafkajs' heartbeat (sent once its interval is due); an error that says to rejoin is noted. */
    const heartbeat = () =>
      payload.heartbeat().catch((error: unknown) => {
        watchdog.noteError(error, joins);
        throw error;
      });
    await heartbeat();

    const valid: ConsumedRecord<T>[] = [];
    const dead: DeadLetter[] = [];
    for (const message of batch.messages) {
      const parsed = parseRecord(options.schema, message.value, options.check);
      const key = message.key?.toString('utf8') ?? null;
      if (parsed.ok) {
        valid.push({
          topic: batch.topic,
          partition: batch.partition,
          offset: message.offset,
          key,
          value: parsed.value,
          headers: message.headers ?? {},
          timestamp: Number(message.timestamp),
        });
      } else {
        dead.push(
          deadLetter({
            groupId: options.groupId,
            origin: { topic: batch.topic, partition: batch.partition, offset: message.offset, key },
            memberId: parsed.memberId,
            reason: parsed.reason,
            errors: parsed.errors,
            originalValue: message.value,
          }),
        );
      }
    }

    if (valid.length > 0) {
      const byKey = new Map<string, Context>();
      for (const record of valid) {
        const traced = traces.get(record.offset);
        if (record.key !== null && traced) byKey.set(record.key, traced);
      }
      // A long fold (a large batch on a loaded machine) must not outlive the session: heartbeat
      // while the handler runs (kafkajs sends one only when its interval is due). A failed beat
      // (a rebalance) is left to the offset commit, which then fails and redelivers the batch.
      const beating = setInterval(() => {
        heartbeat().catch((error: unknown) => log.debug({ err: error }, 'heartbeat during a batch failed'));
      }, HEARTBEAT_DURING_BATCH_MS);
      const outcome = await withRecordTraces(byKey, () =>
        options.handle(valid, { topic: batch.topic, partition: batch.partition, heartbeat }),
      ).finally(() => clearInterval(beating));
      const messages = new Map(batch.messages.map((m) => [m.offset, m.value]));
      for (const { record, reason, errors, storedValue } of outcome?.rejected ?? []) {
        dead.push(
          deadLetter({
            groupId: options.groupId,
            origin: {
              topic: record.topic,
              partition: record.partition,
              offset: record.offset,
              key: record.key,
            },
            memberId: (record.value as { memberId?: unknown }).memberId as string | null,
            reason,
            errors: errors ?? [],
            originalValue: messages.get(record.offset) ?? null,
            storedValue,
          }),
        );
      }
    }
    // A rebalance began during the fold: its commit would fail, and its dead letters would be sent
    // again with the redelivered batch.
    const rejoin = watchdog.rejoinError();
    if (rejoin) throw rejoin;
    if (dead.length > 0) {
      // Dead letters are published before the batch's offsets are committed: none is lost.
      await options.dlq.producer.publish(
        dead.map((letter) => ({
          topic: options.dlq.topic,
          key: letter.memberId,
          value: letter,
          traceContext: traces.get(letter.origin.offset),
        })),
      );
      metrics?.deadLettered(dead);
      for (const letter of dead) {
        log.warn(
          { origin: letter.origin, reason: letter.reason, errors: letter.errors },
          'record sent to the DLQ',
        );
      }
    }

    const next = (BigInt(batch.lastOffset()) + 1n).toString();
    const commit = consumer
      .commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }])
      .catch((error: unknown) => {
        watchdog.noteError(error, joins);
        log.warn({ err: error, partition: batch.partition, offset: next }, 'offset commit failed');
        // A commit that kept failing because the group moved (NOT_COORDINATOR after the broker
        // holding it died and came back) ends in a wrapped error that would crash the consumer:
        // the bare error makes kafkajs find the coordinator and rejoin instead.
        throw rejoinCause(error) ?? error;
      });
    // Observed here; its error is thrown by the partition's next batch (`settleCommit`).
    commit.catch(() => undefined);
    commits.set(batch.partition, commit);
    payload.resolveOffset(batch.lastOffset());
    // Stopping: the commit lands before kafkajs leaves the group (it leaves once this batch returns).
    if (stopping) await settleCommit(batch.partition);
  }

  /**
   * The offsets of a partition's batch are committed while the next fetch runs, not before it: the
   * fetch loop waits for every batch of a fetch to return, so an awaited commit (a round trip to
   * the group coordinator) delayed every record that arrived meanwhile. The commit still follows
   * the batch's handler (nothing is committed before it is processed), at most one is in flight per
   * partition, and the partition's next batch waits for it first: one that failed fails that batch
   * (redelivered, or the consumer rejoins), and a crash in between redelivers the batch, as when
   * the process died before an awaited commit.
   */
  async function settleCommit(partition: number): Promise<void> {
    const commit = commits.get(partition);
    commits.delete(partition);
    await commit;
  }

  return {
    consumer,
    name,
    async start() {
      readiness.set(name, 'joining');
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: options.topics, fromBeginning: options.fromBeginning ?? true });
        // Resolves once the group is joined (or kafkajs gave up: a CRASH, handled above).
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
          eachBatch,
        });
      } catch (error) {
        readiness.set(name, `dead: ${(error as Error).message}`);
        throw error;
      }
      watchdog.arm();
      log.info({ topics: options.topics }, 'consumer started');
    },
    async stop() {
      watchdog.disarm();
      readiness.set(name, 'stopped');
      // The commits in flight land, and the batch in hand waits for its own, before the group is
      // left; one that fails leaves its batch to be redelivered.
      stopping = true;
      await Promise.allSettled(commits.values());
      await consumer.disconnect();
      await metrics?.close();
      log.info('consumer stopped');
    },
  };
}
