import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { TopicKey, TopicNames } from '@taobi/contracts';
import type { Kafka } from 'kafkajs';
import type { Pool, PoolClient } from 'pg';
import { Registry } from 'prom-client';
import type { ProducerHandle } from './kafka/producer';
import { readTopicSince } from './kafka/read-back';
import type { Logger } from './logger';
import { listenForNotifications, type NotificationListener, outboxChannel } from './outbox-listener';
import { createOutboxMetrics } from './outbox-metrics';
import { retry } from './retry';
import { withTimeout } from './timeout';
import { contextFromTraceparent, headerValue, traceparentForKey } from './trace-context';

/**
 * The transactional outbox. A service writes its state change and the records it must publish in
 * one Postgres transaction (`enqueueOutbox`); a relay publishes them to Kafka in id order and marks
 * them published, each send as soon as Kafka acknowledged it.
 *
 * Each record is on the topic once. Every record carries its row's eventId in a header
 * (`taobi-event-id`). Whenever rows may already be on the topic without being marked (a send or a
 * mark failed, so its outcome is unknown; or this relay took the lease over from another, which
 * may have crashed between Kafka's ack and its mark), the relay first reads the topics back from
 * the oldest such row's creation (less a minute of clock skew) to their current end, marks the rows
 * it finds there as published, and sends only the others (`alreadyOnTopic`). Producers are
 * idempotent with one request in flight, so what is not on the topic at that point was not written
 * and will not be: the failed producer was retired, and its retries ended with the error. (The one
 * gap: a broker that appended a record but had not replicated it when the read ran. Consumers
 * still dedupe by eventId, docs/design.md.)
 *
 * A relay is woken by each commit that wrote to its outbox: in-process by the code that committed
 * (`wake()`), and from any process by the commit's notification on `<schema>_outbox`, which it
 * listens for on a connection of its own (`outbox-listener.ts`). Its poll is only the fallback.
 *
 * One relay publishes a schema's outbox at a time, which keeps each member's records in order
 * across instances: it holds a lease (a row with its name and an expiry, taken and renewed by
 * single statements). No transaction, lock or pool connection is held while it waits for Kafka: it
 * reads the next rows, sends them, then marks them, renewing the lease meanwhile. Round trips: the
 * claim goes with the read (only when a row waits), and each mark reads the next rows, so a busy
 * relay costs one Postgres and one Kafka round trip per send, and a woken one, one before its send. A crashed relay's
 * lease lapses after `leaseMs`, and another relay goes on from the first unpublished row.
 *
 * Each service's migrations create the tables (`<schema>.outbox`, `<schema>.outbox_lease`) in its own
 * schema, with the DDL of outbox-migrations.ts.
 */
export interface OutboxRecord {
  eventId: string;
  topic: TopicKey;
  key: string | null;
  payload: unknown;
}

/** The header every relayed record carries: its outbox row's eventId, to find it on the topic again. */
export const EVENT_ID_HEADER = 'taobi-event-id';

function table(schema: string, name = 'outbox'): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`unsafe schema name: ${schema}`);
  return `${schema}.${name}`;
}

/**
 * Adds records to the outbox inside the caller's transaction; an eventId already there is skipped.
 * The same statement notifies the schema's channel (`outboxChannel`), which Postgres delivers at
 * commit: the relays listening, in every process, are woken without waiting for their poll.
 * The rows travel as one JSON document (`json_to_recordset`): serialising thousands of payloads
 * with one JSON.stringify is far cheaper than pg's per-element escaping of text arrays.
 *
 * Each row keeps the trace it continues (`traceparent`, sent by the relay as the record's header):
 * inside a batch consumer's handler, that of the batch's last record with the row's key (the
 * member the row is about); elsewhere (a request, a job) the active span's.
 *
 * `alongside` is a data-modifying statement of the caller (an INSERT or UPDATE, parameters from
 * `$1`) run in the same statement, as a CTE: the state change and its records in one round trip.
 */
export async function enqueueOutbox(
  client: PoolClient,
  schema: string,
  records: readonly OutboxRecord[],
  alongside?: { sql: string; params: readonly unknown[] },
): Promise<void> {
  if (records.length === 0) {
    if (alongside) await client.query(alongside.sql, [...alongside.params]);
    return;
  }
  const first = (alongside?.params.length ?? 0) + 1;
  await client.query(
    `WITH ${alongside ? `alongside AS (${alongside.sql}),` : ''}
     added AS (
       INSERT INTO ${table(schema)} (event_id, topic, message_key, payload, traceparent)
       SELECT r.e, r.t, r.k, r.p, r.c
       FROM json_to_recordset($${first}::json) AS r(i int, e text, t text, k text, p json, c text)
       ORDER BY r.i
       ON CONFLICT (event_id) DO NOTHING
     )
     SELECT pg_notify($${first + 1}, '')`,
    [
      ...(alongside?.params ?? []),
      JSON.stringify(
        records.map((r, i) => ({
          i,
          e: r.eventId,
          t: r.topic,
          k: r.key,
          p: r.payload,
          c: traceparentForKey(r.key),
        })),
      ),
      outboxChannel(schema),
    ],
  );
}

export interface OutboxRelayOptions {
  pool: Pool;
  schema: string;
  producer: ProducerHandle;
  /** To read the topics back before re-sending rows whose earlier send is in doubt. */
  kafka: Kafka;
  topics: TopicNames;
  logger: Logger;
  metrics?: Registry;
  /**
   * Most rows one read takes (default 500). They are published in sends cut by `maxBatchBytes`,
   * each marked once Kafka acknowledged it.
   */
  batchSize?: number;
  /**
   * Most bytes of payload one send carries. A broker refuses a partition's record batch over its
   * `message.max.bytes` (1 MB by default) and would refuse it again on every retry, stalling the
   * relay, so batches are cut by size as well as by count.
   */
  maxBatchBytes?: number;
  /**
   * How often an idle relay looks for work it was not woken for: the fallback, since commits wake
   * it (in-process through `wake()`, from any process through the channel it listens on).
   */
  pollIntervalMs?: number;
  /**
   * Listen on the schema's channel (`LISTEN <schema>_outbox`, a connection of its own) so that a
   * commit in any process wakes the relay (default true).
   */
  listen?: boolean;
  /**
   * How long a relay's lease lasts without renewal: how soon another relay takes over from one that
   * crashed. It is renewed every third of it, during a send too (default 10 s).
   */
  leaseMs?: number;
  /** Published rows are deleted after this long (they are a transport, not the audit trail). */
  retentionMs?: number;
  /**
   * Runs after a batch is published and marked, e.g. to refresh a Redis read model. It overlaps the
   * next batch's read and send (one at a time: the next one waits for it); `drain` and `stop` wait
   * for it.
   */
  afterPublish?: (records: OutboxRecord[]) => Promise<void>;
  /**
   * The read-back of sends in doubt fails once it has made no progress for this long (default
   * 30 s); its rows stay in doubt and the next round reads again (`readTopicSince`).
   */
  readBackStallMs?: number;
}

export interface OutboxRelay {
  start(): void;
  /** Publishes what is pending now instead of at the next poll. */
  wake(): void;
  /** Publishes everything pending (for tests and admin jobs); resolves when the outbox is empty. */
  drain(): Promise<void>;
  /** Finishes the batch in hand, gives up the lease and stops. */
  stop(): Promise<void>;
}

interface Row {
  id: number;
  size: number;
  created_at: Date;
  event_id: string;
  topic: TopicKey;
  message_key: string | null;
  payload: unknown;
  traceparent: string | null;
}

export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const log = options.logger.child({ component: 'outbox-relay', schema: options.schema });
  const outbox = table(options.schema);
  const lease = table(options.schema, 'outbox_lease');
  const leaseMs = options.leaseMs ?? 10_000;
  const holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const batchSize = options.batchSize ?? 500;
  const maxBatchBytes = options.maxBatchBytes ?? 768 * 1024;
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const retentionMs = options.retentionMs ?? 7 * 24 * 3600_000;
  const readBackStallMs = options.readBackStallMs ?? 30_000;
  /** When (ms since the epoch) a round of the relay last completed; its metric shows a stuck relay. */
  let lastSuccess = Date.now();
  const { published, failures, recovered, watchRelay } = createOutboxMetrics({
    registry: options.metrics ?? new Registry(),
    pool: options.pool,
    table: outbox,
    logger: log,
  });
  let unwatch: (() => void) | undefined;

  let running = false;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let woken = false;
  let lastPurge = 0;
  let queue: Promise<unknown> = Promise.resolve();
  /** The rows the last mark read after the rows it marked (`markAndReadNext`): the next batch. */
  let readAhead: Row[] | undefined;
  /** The last batch's `afterPublish`, running while the next batch is read and sent. */
  let afterPublishing: Promise<void> = Promise.resolve();
  let listener: NotificationListener | undefined;
  /** When (performance.now()) the last claim that succeeded was sent; 0 when the lease is not ours. */
  let claimedAt = 0;
  /**
   * Rows with an id up to this one may be on the topic already (a send or mark failed, or the lease
   * was taken over): they are looked for there before being sent. Null when nothing is in doubt.
   */
  let doubtfulThrough: number | null = null;
  /** The clean-ups of read-backs still running in the background (waited for, briefly, by `stop`). */
  const cleanUps = new Set<Promise<void>>();

  /**
   * The rows cut into sends of at most `maxBatchBytes` of payload (at least one row each), in id
   * order: a read of many rows is published in several sends, under one lease and one mark.
   */
  function sends(rows: Row[]): Row[][] {
    const chunks: Row[][] = [];
    let bytes = 0;
    let chunk: Row[] = [];
    for (const row of rows) {
      if (chunk.length > 0 && bytes + row.size > maxBatchBytes) {
        chunks.push(chunk);
        chunk = [];
        bytes = 0;
      }
      bytes += row.size;
      chunk.push(row);
    }
    if (chunk.length > 0) chunks.push(chunk);
    return chunks;
  }

  /**
   * Takes or renews the lease; `held` false while another relay holds a live one. `takenOver` when
   * another relay held it last: that one may have sent rows it could not mark (it crashed, or its
   * send failed), and only rows committed before its lease ended (`previousEnd`) can be among them.
   * No lease at all means the last holder stopped with nothing in doubt (`stop`).
   */
  async function claim(): Promise<{ held: boolean; takenOver: boolean; previousEnd: Date | null }> {
    const sentAt = performance.now();
    const { rows } = await options.pool.query<{ previous: string | null; previous_end: Date | null }>(
      `WITH previous AS (SELECT holder, expires_at FROM ${lease})
       INSERT INTO ${lease} AS l (holder, expires_at) VALUES ($1, now() + $2 * interval '1 millisecond')
       ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
       WHERE l.holder = EXCLUDED.holder OR l.expires_at < now()
       RETURNING (SELECT holder FROM previous) AS previous, (SELECT expires_at FROM previous) AS previous_end`,
      [holder, leaseMs],
    );
    const row = rows[0];
    claimedAt = row !== undefined ? sentAt : 0;
    return {
      held: row !== undefined,
      takenOver: row !== undefined && row.previous !== null && row.previous !== holder,
      previousEnd: row?.previous_end ?? null,
    };
  }

  /**
   * The rows of `rows` already on their topics: read back from the oldest row's creation (less a
   * minute for clocks that disagree) to each partition's end, matched by the eventId header.
   */
  async function alreadyOnTopic(rows: Row[]): Promise<Row[]> {
    const found: Row[] = [];
    for (const topic of new Set(rows.map((row) => row.topic))) {
      const ofTopic = rows.filter((row) => row.topic === topic);
      const oldest = Math.min(...ofTopic.map((row) => row.created_at.getTime()));
      // Bounded: a read that stops moving fails (the rows stay in doubt, the next round reads
      // again), and its clients are disconnected in the background, not waited for.
      const read = await readTopicSince(options.kafka, options.topics[topic], new Date(oldest - 60_000), {
        stallMs: readBackStallMs,
        onCleanUp: (done) => {
          cleanUps.add(done);
          void done.then(() => cleanUps.delete(done));
        },
      });
      const onTopic = new Set(read.map((r) => headerValue(r.headers[EVENT_ID_HEADER])));
      found.push(...ofTopic.filter((row) => onTopic.has(row.event_id)));
    }
    return found;
  }

  async function markPublished(rows: Row[]): Promise<void> {
    await options.pool.query(`UPDATE ${outbox} SET published_at = now() WHERE id = ANY($1::bigint[])`, [
      rows.map((row) => row.id),
    ]);
  }

  /**
   * Whether the lease was claimed less than a third of its term ago: it is still ours (only its
   * expiry lets another relay in), so a busy relay's next batch reads its rows at once (or takes
   * those its last mark read ahead) instead of claiming again with its read.
   */
  function leaseFresh(): boolean {
    return claimedAt > 0 && performance.now() - claimedAt < leaseMs / 3;
  }

  /**
   * Runs `work` while renewing the lease, so a slow broker (a long send or read-back) does not let
   * another relay in. `held()` turns false once a renewal found the lease taken: `work` sends no
   * more then (the relay that took it over reads the topics back first).
   */
  async function holdingLease<T>(work: (held: () => boolean) => Promise<T>): Promise<T> {
    let lost = false;
    const timer = setInterval(() => {
      claim()
        .then(({ held }) => {
          if (held) return;
          lost = true;
          log.warn('outbox lease lost during a send or read-back; sending no more until it is back');
        })
        .catch((error: unknown) => log.warn({ err: error }, 'could not renew the outbox lease'));
    }, leaseMs / 3);
    try {
      return await work(() => !lost);
    } finally {
      clearInterval(timer);
    }
  }

  /**
   * One batch: claim the lease, read, publish, mark. Says how many rows it published (0 when idle or
   * when another relay holds the lease) and whether more were waiting behind them.
   */
  async function publishBatch(): Promise<{ count: number; more: boolean }> {
    // The loop and drain() share the lease: one batch at a time, or they would send rows twice.
    const turn = queue.then(publishNext);
    queue = turn.catch(() => undefined);
    return turn;
  }

  /** The columns of `Row`, of the outbox as `o`. */
  const rowColumns = `o.id, octet_length(o.payload::text) AS size, o.created_at, o.event_id, o.topic,
       o.message_key, o.payload, o.traceparent`;

  /**
   * Claims the lease and reads the first rows in one round trip, claiming only when a row waits (an
   * idle relay does not write its lease on every poll). No rows: nothing waits, or another relay
   * holds a live lease. `previous` and `previousEnd` are the lease's last holder and expiry, as
   * `claim` says them.
   */
  async function claimAndRead(): Promise<{ rows: Row[]; takenOver: boolean; previousEnd: Date | null }> {
    const sentAt = performance.now();
    const { rows } = await options.pool.query<Row & { previous: string | null; previous_end: Date | null }>(
      `WITH previous AS (SELECT holder, expires_at FROM ${lease}),
       claimed AS (
         INSERT INTO ${lease} AS l (holder, expires_at)
         SELECT $1, now() + $2 * interval '1 millisecond'
         WHERE EXISTS (SELECT 1 FROM ${outbox} WHERE published_at IS NULL)
         ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
         WHERE l.holder = EXCLUDED.holder OR l.expires_at < now()
         RETURNING 1
       )
       SELECT ${rowColumns},
         (SELECT holder FROM previous) AS previous, (SELECT expires_at FROM previous) AS previous_end
       FROM ${outbox} o WHERE o.published_at IS NULL AND EXISTS (SELECT 1 FROM claimed) ORDER BY o.id LIMIT $3`,
      [holder, leaseMs, batchSize],
    );
    const first = rows[0];
    claimedAt = first !== undefined ? sentAt : 0;
    return {
      rows,
      takenOver: first !== undefined && first.previous !== null && first.previous !== holder,
      previousEnd: first?.previous_end ?? null,
    };
  }

  /**
   * Marks a send's rows published and, in the same round trip, reads the rows after them (the read
   * runs on the statement's snapshot, where the rows just marked still look unpublished: they are
   * left out by id). Every wake before it is answered by it: a commit that woke the relay is in
   * its snapshot.
   */
  async function markAndReadNext(rows: Row[]): Promise<Row[]> {
    woken = false;
    const { rows: next } = await options.pool.query<Row>(
      `WITH marked AS (UPDATE ${outbox} SET published_at = now() WHERE id = ANY($1::bigint[]))
       SELECT ${rowColumns} FROM ${outbox} o
       WHERE o.published_at IS NULL AND NOT (o.id = ANY($1::bigint[])) ORDER BY o.id LIMIT $2`,
      [rows.map((row) => row.id), batchSize],
    );
    return next;
  }

  /**
   * The rows to publish next: those the last mark read, while the lease is still ours; else a read
   * (with a claim of the lease when it is not fresh). One round trip before the send either way,
   * none on a busy relay.
   */
  async function nextRows(): Promise<Row[]> {
    const ahead = readAhead;
    readAhead = undefined;
    // An empty read-ahead said the outbox was empty then: the relay rested since, and reads again.
    if (ahead !== undefined && ahead.length > 0 && leaseFresh()) return ahead;
    if (leaseFresh()) {
      woken = false;
      const { rows } = await options.pool.query<Row>(
        `SELECT ${rowColumns} FROM ${outbox} o WHERE o.published_at IS NULL ORDER BY o.id LIMIT $1`,
        [batchSize],
      );
      return rows;
    }
    woken = false;
    const { rows, takenOver, previousEnd } = await claimAndRead();
    if (takenOver) {
      const { rows: last } = await options.pool.query<{ last: number | null }>(
        `SELECT max(id) AS last FROM ${outbox}
         WHERE published_at IS NULL AND ($1::timestamptz IS NULL OR created_at < $1)`,
        [previousEnd],
      );
      const through = last[0]?.last ?? null;
      if (through !== null) doubtfulThrough = Math.max(doubtfulThrough ?? 0, Number(through));
    }
    return rows;
  }

  /**
   * Round trips of a batch: its read (none when the last mark read it ahead; one, with the claim,
   * when the lease is not fresh), its sends, and the mark of each send, the last one reading the
   * next rows ahead. A busy relay costs one Postgres and one Kafka round trip per send.
   */
  async function publishNext(): Promise<{ count: number; more: boolean }> {
    const pending = await nextRows();
    if (pending.length === 0) return { count: 0, more: false };
    let found: Row[] = [];
    let rows: Row[] = [];
    try {
      await holdingLease(async (held) => {
        found = await recover(pending, pending.length === batchSize);
        rows = pending.filter((row) => !found.includes(row));
        // One send at a time, each marked once acknowledged: a failure leaves only the rows of the
        // send that failed in doubt (the later ones were not sent).
        const chunks = sends(rows);
        for (const [index, chunk] of chunks.entries()) {
          if (!held()) throw new Error('the outbox lease was taken over by another relay');
          await options.producer.publish(
            chunk.map((row) => ({
              topic: options.topics[row.topic],
              key: row.message_key,
              value: row.payload,
              headers: { [EVENT_ID_HEADER]: row.event_id },
              // The relay's send span continues the trace the row was written in.
              traceContext: contextFromTraceparent(row.traceparent),
            })),
          );
          if (index < chunks.length - 1) await markPublished(chunk);
          else readAhead = await markAndReadNext(chunk);
        }
      });
    } catch (error) {
      readAhead = undefined;
      doubtfulThrough = Math.max(doubtfulThrough ?? 0, ...rows.map((row) => row.id));
      throw error;
    }
    const more = pending.length === batchSize || (readAhead?.length ?? 0) > 0;
    const records = [...found, ...rows].map(
      (row): OutboxRecord => ({
        eventId: row.event_id,
        topic: row.topic,
        key: row.message_key,
        payload: row.payload,
      }),
    );
    for (const row of rows) published.labels(row.topic).inc();
    const after = options.afterPublish;
    if (after) {
      await afterPublishing;
      afterPublishing = after(records).catch((error: unknown) => {
        log.warn({ err: error }, 'after-publish step failed (the read model is repaired on read)');
      });
    }
    return { count: records.length, more };
  }

  /**
   * Of the rows just read, those whose earlier send is in doubt and that are on the topic already:
   * marked published here, not to be sent again.
   */
  async function recover(pending: Row[], more: boolean): Promise<Row[]> {
    if (doubtfulThrough === null) return [];
    const through = doubtfulThrough;
    const doubtful = pending.filter((row) => row.id <= through);
    const found = doubtful.length > 0 ? await alreadyOnTopic(doubtful) : [];
    if (found.length > 0) {
      await markPublished(found);
      for (const row of found) recovered.labels(row.topic).inc();
      log.info(
        { records: found.length, firstEventId: found[0]?.event_id },
        'outbox records already on the topic (an earlier send was in doubt): marked published, not sent again',
      );
    }
    // Every doubtful row was in this read, or a later read goes on checking.
    if (!more || (pending.at(-1)?.id ?? 0) >= through) doubtfulThrough = null;
    return found;
  }

  async function purge(): Promise<void> {
    if (Date.now() - lastPurge < 60_000) return;
    lastPurge = Date.now();
    await options.pool.query(
      `DELETE FROM ${outbox} WHERE published_at < now() - ($1 || ' milliseconds')::interval`,
      [String(retentionMs)],
    );
  }

  function pause(ms: number): Promise<void> {
    if (woken) {
      woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        woken = false;
        resolve();
      }
      wakeUp = done;
    });
  }

  function wake(): void {
    woken = true;
    wakeUp?.();
  }

  /**
   * One batch; when it emptied the outbox, the published rows past their retention are purged. A
   * round that completes, whatever it found to do, is the relay's sign of life (`lastSuccess`).
   */
  async function step(): Promise<boolean> {
    const { more } = await publishBatch();
    if (!more) await purge();
    lastSuccess = Date.now();
    return more;
  }

  async function run(): Promise<void> {
    while (running) {
      const more = await retry(step, {
        attempts: Number.POSITIVE_INFINITY,
        delayMs: 200,
        maxDelayMs: 5000,
        retryIf: () => running,
        sleep: pause,
        onRetry: (error, _attempt, retryInMs) => {
          failures.inc();
          log.warn({ err: error, retryInMs }, 'outbox publish failed; will retry');
        },
      }).catch(() => false); // only once stopped
      if (running && !more) await pause(pollIntervalMs);
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      lastSuccess = Date.now();
      unwatch = watchRelay(() => lastSuccess);
      if (options.listen ?? true) {
        listener = listenForNotifications({
          pool: options.pool,
          channel: outboxChannel(options.schema),
          logger: log,
          onNotify: wake,
        });
      }
      loop = run();
    },
    wake,
    async drain() {
      while ((await publishBatch()).count > 0) {
        // keep going until a batch comes back empty
      }
      await afterPublishing;
    },
    async stop() {
      running = false;
      wakeUp?.();
      await listener?.close();
      await loop;
      await afterPublishing;
      unwatch?.();
      claimedAt = 0;
      // A clean stop hands over at once rather than after the lease lapses. With rows in doubt, the
      // lease is left lapsed instead, so the next holder looks for them on the topic first.
      await options.pool
        .query(
          doubtfulThrough === null
            ? `DELETE FROM ${lease} WHERE holder = $1`
            : `UPDATE ${lease} SET expires_at = now() WHERE holder = $1`,
          [holder],
        )
        .catch((error: unknown) => log.warn({ err: error }, 'could not give up the outbox lease'));
      // Read-backs abandoned in the background get a moment to disconnect their clients and delete
      // their throw-away groups (a group left behind is empty, and Kafka drops it in time).
      if (cleanUps.size > 0) {
        await withTimeout(Promise.all(cleanUps), Math.min(3 * readBackStallMs, 10_000)).catch(() =>
          log.warn(
            { readBacks: cleanUps.size },
            'outbox read-back clean-ups still running at stop; left to the process exit',
          ),
        );
      }
    },
  };
}
