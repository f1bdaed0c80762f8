import { type ConsumptionEvent, consumptionEventSchema, isConsumptionEvent } from '@taobi/contracts';
import {
  type BatchConsumer,
  type ConsumedRecord,
  Counter,
  createBatchConsumer,
  Histogram,
  type Kafka,
  type Logger,
  type Pool,
  type ProducerHandle,
  type Readiness,
  type Registry,
  type RejectedRecord,
  withTransaction,
} from '@taobi/platform';
import type { RuleSet } from '@taobi/rules';
import { CONFLICTING_DUPLICATE, rejectionReason } from '../domain/consumption-check';
import { createKnownLabels, labelsOf } from '../store/labels';
import { type FoldResult, foldBatch } from '../store/ledger';
import { isRetriableTransactionError, type LogPosition } from '../store/sql';

export interface ConsumptionConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topic: string;
  dlq: { producer: ProducerHandle; topic: string };
  pool: Pool;
  /** The rule set in force at an instant, as the registry says (docs/adr/0006). */
  rulesAt: (at: Date) => Promise<RuleSet>;
  now: () => Date;
  logger: Logger;
  metrics: Registry;
  concurrency: number;
  maxBytesPerPartition: number;
  maxBytes: number;
  sessionTimeoutMs: number;
  retries: number;
  readiness: Readiness;
  maxFutureSkewMs: number;
  /**
   * Runs after a batch's transaction committed and before its offsets are: the relay is woken
   * here, and the fault-injection test kills the process here.
   */
  afterCommit?: (result: FoldResult) => void;
}

const MAX_TRANSACTION_ATTEMPTS = 4;

/**
 * Consumes `taobi.consumption.v1` in batches (one partition's records at a time) and folds each
 * batch in ONE Postgres transaction; the platform consumer commits the offsets only after it. A
 * crash in between redelivers the batch, which the ledger turns into no-ops.
 */
export function createConsumptionConsumer(options: ConsumptionConsumerOptions): BatchConsumer {
  const log = options.logger.child({ component: 'consumption-consumer', topic: options.topic });
  const events = new Counter({
    name: 'taobi_scoring_events_total',
    help: 'Consumption events by outcome: counted (new to the ledger), duplicate (an exact copy), conflicting-duplicate (a known eventId with other fields: DLQ), rejected (DLQ)',
    labelNames: ['outcome'],
    registers: [options.metrics],
  });
  const changes = new Counter({
    name: 'taobi_scoring_score_changes_total',
    help: 'Score-changed records written to the outbox by the consumer',
    registers: [options.metrics],
  });
  const batchSeconds = new Histogram({
    name: 'taobi_scoring_batch_duration_seconds',
    help: 'Time to fold one batch (transaction included)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [options.metrics],
  });

  const latency = new Histogram({
    name: 'taobi_scoring_event_latency_seconds',
    help: "From ingest's acceptance of an event (its consumption record's Kafka timestamp) to its fold's commit in scoring",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [options.metrics],
  });

  const knownLabels = createKnownLabels();

  async function fold(
    batch: ConsumptionEvent[],
    context: { partition: number; rules: RuleSet; now: Date; position: LogPosition },
  ): Promise<FoldResult> {
    // New labels are committed before the transaction, not in it: concurrent partitions' batches
    // would otherwise wait for the first one's whole fold (store/labels.ts).
    await knownLabels.commit(options.pool, labelsOf(batch));
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await withTransaction(options.pool, (client) =>
          foldBatch(client, batch, {
            rules: context.rules,
            now: context.now,
            position: context.position,
            knownLabels,
          }),
        );
      } catch (error) {
        if (!isRetriableTransactionError(error) || attempt >= MAX_TRANSACTION_ATTEMPTS) throw error;
        log.warn(
          { err: error, attempt, partition: context.partition },
          'batch transaction conflicted; retrying',
        );
      }
    }
  }

  async function handle(records: ConsumedRecord<ConsumptionEvent>[], context: { partition: number }) {
    const stop = batchSeconds.startTimer();
    const now = options.now();
    // The whole batch is folded under the rule set in force now (the registry's copy, kept current by
    // the notification every registration sends; a query only while it cannot listen).
    const rules = await options.rulesAt(now);
    const rejected: RejectedRecord<ConsumptionEvent>[] = [];
    const accepted: ConsumptionEvent[] = [];
    for (const record of records) {
      const reason = rejectionReason(record.value, { rules, now, maxFutureSkewMs: options.maxFutureSkewMs });
      if (reason) rejected.push({ record, reason });
      else accepted.push(record.value);
    }
    const position: LogPosition = {
      partition: context.partition,
      firstOffset: records[0]?.offset ?? '0',
      lastOffset: records.at(-1)?.offset ?? '0',
    };
    const result =
      accepted.length > 0
        ? await fold(accepted, { partition: context.partition, rules, now, position })
        : { inserted: [], rejected: [], changes: [] };
    options.afterCommit?.(result);
    // Wall-clock time, not `now` (a test clock): how long members wait for their points.
    const committedAt = Date.now();
    for (const record of records) latency.observe(Math.max(0, committedAt - record.timestamp) / 1000);

    if (result.rejected.length > 0) {
      // By the event itself: a batch may hold several records of one eventId.
      const byEvent = new Map(records.map((r) => [r.value, r]));
      for (const { event, reason, errors, storedValue } of result.rejected) {
        const record = byEvent.get(event);
        if (record) rejected.push({ record, reason, errors, storedValue });
      }
    }
    const conflicting = rejected.filter((r) => r.reason === CONFLICTING_DUPLICATE).length;
    events.labels('counted').inc(result.inserted.length);
    events.labels('duplicate').inc(records.length - rejected.length - result.inserted.length);
    events.labels('conflicting-duplicate').inc(conflicting);
    events.labels('rejected').inc(rejected.length - conflicting);
    changes.inc(result.changes.length);
    const seconds = stop();
    log.debug(
      {
        partition: context.partition,
        firstOffset: records[0]?.offset,
        lastOffset: records.at(-1)?.offset,
        records: records.length,
        counted: result.inserted.length,
        changed: result.changes.length,
        seconds,
      },
      'batch folded',
    );
    return { rejected };
  }

  return createBatchConsumer({
    kafka: options.kafka,
    groupId: options.groupId,
    topics: [options.topic],
    logger: options.logger,
    schema: consumptionEventSchema,
    check: isConsumptionEvent,
    dlq: options.dlq,
    handle,
    partitionsConsumedConcurrently: options.concurrency,
    maxBytesPerPartition: options.maxBytesPerPartition,
    maxBytes: options.maxBytes,
    sessionTimeout: options.sessionTimeoutMs,
    retries: options.retries,
    readiness: options.readiness,
    metrics: options.metrics,
  });
}
