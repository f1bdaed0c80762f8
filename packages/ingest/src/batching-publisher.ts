import {
  boundToActiveTrace,
  createProducerHandle,
  type Logger,
  type OutgoingRecord,
  type Producer,
} from '@taobi/platform';

/**
 * Why a publish did not happen. Always retriable: the caller answers 503 with Retry-After and the
 * platform retries with the same body (same eventIds).
 */
export class PublishError extends Error {
  readonly retriable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PublishError';
  }
}

export interface SendReport {
  records: number;
  requests: number;
  seconds: number;
  ok: boolean;
}

export interface BatchingPublisherOptions {
  /** Creates and connects a producer (idempotent, acks -1); called again after a failed send. */
  connect: () => Promise<Producer>;
  /** How long the first request of a batch waits for others to join it. */
  lingerMs: number;
  /** A batch is sent as soon as it holds this many records (a request is never split). */
  maxBatchRecords: number;
  /**
   * How long a request may wait for a producer and for its turn. The send itself is bounded by
   * the producer's own retry budget (see `kafkaTimingsFor`), never by a timer here.
   */
  timeoutMs: number;
  logger: Logger;
  onSend?: (report: SendReport) => void;
  now?: () => number;
}

export interface BatchingPublisher {
  /** Resolves once Kafka acknowledged every record; rejects with `PublishError` otherwise. */
  publish(records: OutgoingRecord[]): Promise<void>;
  /** Connects the first producer; a failure is logged, not thrown (the next publish retries). */
  start(): Promise<void>;
  /** Sends what is queued, then disconnects. Later publishes are refused. */
  close(): Promise<void>;
}

interface Pending {
  records: OutgoingRecord[];
  deadline: number;
  resolve: () => void;
  reject: (error: PublishError) => void;
}

function withDeadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PublishError(message)), Math.max(0, ms));
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/**
 * Publishes the records of many concurrent requests in shared `sendBatch` calls, so that the
 * service is not one Kafka round trip per request.
 *
 * - A request's records are queued whole and sent in one `sendBatch`; the request resolves only
 *   when Kafka acknowledged that send, and fails as a whole when it failed.
 * - One send is in flight at a time (the producer is idempotent with one request in flight per
 *   broker anyway); requests arriving meanwhile form the next batch, so batches grow with load.
 *   When idle, the first request waits `lingerMs` for company, or less when the batch fills up.
 * - Failure before sending (no producer within the deadline, or waited past the deadline) is
 *   safe to report: nothing was sent. A send is never abandoned on a timer: we wait for kafkajs to
 *   settle it, within its retry budget, so a 503 is never answered for records that may still be
 *   written in the background by that send.
 * - After a failed send the producer is replaced (a new producer id). kafkajs rolls its sequence
 *   numbers back when a send fails; if the broker had in fact written that batch, a later and
 *   different batch reusing those numbers would be taken by the broker for a duplicate and
 *   silently dropped. A fresh producer id rules that out.
 * - When a send fails, requests queued behind it were never sent: they fail at once too (Kafka is
 *   evidently unwell), instead of each waiting out its own deadline.
 *
 * All-or-nothing, precisely: a resolved publish means every record is durable. A rejected one
 * means "not accepted": usually nothing was written (broker down, connection refused), but if
 * Kafka failed part-way (a timeout after the broker wrote, or one broker of several failing), some
 * records may be on the topic. The caller retries with the same eventIds and consumers dedupe on
 * eventId, so the retry is harmless; no record is ever lost.
 */
export function createBatchingPublisher(options: BatchingPublisherOptions): BatchingPublisher {
  const now = options.now ?? Date.now;
  const log = options.logger.child({ component: 'batching-publisher' });
  const queue: Pending[] = [];
  let queuedRecords = 0;
  let timer: NodeJS.Timeout | undefined;
  let sending = false;
  /** No new requests (shutting down); queued ones are still sent. */
  let closed = false;
  // Replaced after a failed send (see createProducerHandle for why).
  const producer = createProducerHandle(async () => {
    const connected = await options.connect();
    log.info('Kafka producer connected');
    return connected;
  });
  let idleWaiters: (() => void)[] = [];

  function rejectAll(requests: Pending[], error: PublishError): void {
    for (const request of requests) request.reject(error);
  }

  function takeBatch(): Pending[] {
    const taken: Pending[] = [];
    let records = 0;
    const t = now();
    while (queue.length > 0) {
      const next = queue[0] as Pending;
      if (next.deadline <= t) {
        queue.shift();
        queuedRecords -= next.records.length;
        next.reject(new PublishError('waited past the publish deadline; nothing was sent'));
        continue;
      }
      if (taken.length > 0 && records + next.records.length > options.maxBatchRecords) break;
      queue.shift();
      queuedRecords -= next.records.length;
      taken.push(next);
      records += next.records.length;
    }
    return taken;
  }

  async function flush(): Promise<void> {
    if (sending) return;
    clearTimeout(timer);
    timer = undefined;
    const taken = takeBatch();
    if (taken.length === 0) return settleIdle();
    sending = true;
    const records = taken.flatMap((request) => request.records);
    try {
      try {
        const deadline = Math.min(...taken.map((request) => request.deadline));
        await withDeadline(producer.get(), deadline - now(), 'no Kafka producer within the deadline');
      } catch (error) {
        log.warn({ err: error, records: records.length }, 'Kafka unavailable; nothing was sent');
        rejectAll(
          taken,
          error instanceof PublishError ? error : new PublishError('Kafka is unavailable', { cause: error }),
        );
        return;
      }
      const started = now();
      try {
        await producer.publish(records);
        options.onSend?.({
          records: records.length,
          requests: taken.length,
          seconds: (now() - started) / 1000,
          ok: true,
        });
        for (const request of taken) request.resolve();
      } catch (error) {
        options.onSend?.({
          records: records.length,
          requests: taken.length,
          seconds: (now() - started) / 1000,
          ok: false,
        });
        log.warn(
          { err: error, records: records.length, requests: taken.length },
          'Kafka did not acknowledge the batch',
        );
        const failure = new PublishError('Kafka did not acknowledge the records', { cause: error });
        rejectAll(taken, failure);
        const waiting = queue.splice(0);
        queuedRecords = 0;
        rejectAll(waiting, failure);
      }
    } finally {
      sending = false;
      // Whoever queued during the send has waited long enough: send now.
      if (queue.length > 0) void flush();
      else settleIdle();
    }
  }

  function settleIdle(): void {
    if (sending || queue.length > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const done of waiters) done();
  }

  function schedule(): void {
    if (sending) return;
    if (queuedRecords >= options.maxBatchRecords || options.lingerMs <= 0) {
      void flush();
    } else {
      timer ??= setTimeout(() => void flush(), options.lingerMs);
    }
  }

  return {
    publish(records) {
      if (closed) return Promise.reject(new PublishError('the service is shutting down'));
      if (records.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        // Sent later, with other requests' records: each keeps the trace of its request.
        queue.push({
          records: boundToActiveTrace(records),
          deadline: now() + options.timeoutMs,
          resolve,
          reject,
        });
        queuedRecords += records.length;
        schedule();
      });
    },

    async start() {
      try {
        await withDeadline(producer.get(), options.timeoutMs, 'no Kafka producer within the deadline');
      } catch (error) {
        log.warn({ err: error }, 'Kafka is not reachable yet; requests get 503 until it is');
      }
    },

    async close() {
      closed = true;
      const idle = new Promise<void>((resolve) => idleWaiters.push(resolve));
      void flush();
      settleIdle();
      await idle;
      await producer.close();
    },
  };
}
