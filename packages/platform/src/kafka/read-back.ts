import { randomBytes } from 'node:crypto';
import type { Admin, IHeaders, Kafka } from 'kafkajs';

/** A record read back from a topic, as the broker holds it. */
export interface RecordOnTopic {
  partition: number;
  offset: string;
  /** The record's timestamp (ms): when its producer sent it. */
  timestamp: number;
  key: string | null;
  headers: IHeaders;
  value: Buffer | null;
}

/** Offsets `from` (included) to `to` (excluded) of one partition. */
export interface OffsetRange {
  partition: number;
  from: bigint;
  to: bigint;
}

export interface ReadBackOptions {
  /**
   * The read fails once it has made no progress for this long (default 30 s). Every step counts,
   * from connecting to the last record, not only the wait for records: a client of a lost broker
   * can wait without end (a group join that never completes, a disconnect waiting for it).
   */
  stallMs?: number;
  /** Sees each batch as it comes (for progress). */
  onBatch?: (records: readonly RecordOnTopic[]) => void;
  /**
   * Given the read's clean-up (disconnecting its clients, deleting its throw-away group), which
   * runs in the background: the read returns, or fails, without waiting for it. Each of its steps
   * is bounded by `stallMs` too, and it never rejects. For a caller that wants to wait for it.
   */
  onCleanUp?: (done: Promise<void>) => void;
}

/** A read-back that made no progress for its stall limit (its clients are cleaned up behind it). */
export class ReadBackStalledError extends Error {
  override readonly name = 'ReadBackStalledError';
}

const noop = () => undefined;

/**
 * One read's stall timer and clean-ups. `step` waits for one call of the read and counts its
 * completion as progress (as does each batch read, `progress`); once the read made no progress for
 * `stallMs`, `stalled` rejects and the read is abandoned: `end` stops the timer and cleans up in the
 * background, and an abandoned read's steps that complete later stop there (`step` throws).
 */
class ReadBack {
  readonly stalled: Promise<never>;
  private fail: (error: Error) => void = noop;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;
  private doing = 'starting';
  private readonly cleanUps: { what: string; run: () => Promise<unknown> }[] = [];

  constructor(
    private readonly topic: string,
    private readonly stallMs: number,
  ) {
    this.stalled = new Promise<never>((_, reject) => {
      this.fail = reject;
    });
    this.stalled.catch(noop);
    this.progress();
  }

  get over(): boolean {
    return this.ended;
  }

  /** Restarts the stall timer (no timer outlives the read, nor keeps a process alive). */
  progress(): void {
    clearTimeout(this.timer);
    if (this.ended) return;
    this.timer = setTimeout(
      () =>
        this.fail(
          new ReadBackStalledError(
            `reading ${this.topic} back made no progress for ${this.stallMs} ms (${this.doing})`,
          ),
        ),
      this.stallMs,
    );
    this.timer.unref();
  }

  /** Fails the read now (its consumer crashed). */
  abort(error: unknown): void {
    this.fail(error instanceof Error ? error : new Error(String(error)));
  }

  /** Waits for `call` (what the read is `doing`, named by a stall error); its completion is progress. */
  async step<T>(doing: string, call: Promise<T>): Promise<T> {
    this.doing = doing;
    const result = await call;
    if (this.ended) throw new ReadBackStalledError(`reading ${this.topic} back was abandoned`);
    this.progress();
    return result;
  }

  /** Registers a clean-up; they run at the end in reverse order (at once if the read has ended). */
  onEnd(what: string, run: () => Promise<unknown>): void {
    if (this.ended) void run().catch(noop);
    else this.cleanUps.unshift({ what, run });
  }

  /** Stops the timer and runs the clean-ups, each bounded by the stall limit. Never rejects. */
  end(): Promise<void> {
    this.ended = true;
    clearTimeout(this.timer);
    const cleanUps = this.cleanUps.splice(0);
    return (async () => {
      for (const { run } of cleanUps) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          run().catch(noop),
          new Promise((resolve) => {
            timer = setTimeout(resolve, this.stallMs);
            timer.unref();
          }),
        ]);
        clearTimeout(timer);
      }
    })();
  }
}

/**
 * Runs `read` with an admin client of its own, bounded by the stall limit; the clean-up starts as
 * soon as it settles or stalls, in the background (handed to `onCleanUp`).
 */
async function bounded<T>(
  kafka: Kafka,
  topic: string,
  options: ReadBackOptions,
  read: (readBack: ReadBack, admin: Admin) => Promise<T>,
): Promise<T> {
  const readBack = new ReadBack(topic, options.stallMs ?? 30_000);
  const work = (async () => {
    const admin = kafka.admin();
    readBack.onEnd('disconnecting the admin client', () => admin.disconnect());
    await readBack.step('connecting an admin client', admin.connect());
    return read(readBack, admin);
  })();
  work.catch(noop); // once stalled, what it does is nobody's concern but the clean-up's
  try {
    return await Promise.race([work, readBack.stalled]);
  } finally {
    options.onCleanUp?.(readBack.end());
  }
}

/**
 * Reads the ranges through a throw-away consumer group: once it has joined (it holds every
 * partition), each partition asked for is sought to its range's start and the others are paused.
 * A fetch made before the seeks took effect (from the partitions' ends) is ignored: only the next
 * offset expected of a partition is taken, so each record is read once, in order. (The group's
 * offsets are not set beforehand with `admin.setOffsets`: kafkajs does that by running a silent
 * consumer of its own that it restarts on every crash and that settles only on its first fetch.)
 * The group is deleted by a clean-up.
 */
async function readRanges(
  readBack: ReadBack,
  kafka: Kafka,
  admin: Admin,
  topic: string,
  /** Every partition of the topic (those not read are paused). */
  partitions: readonly number[],
  ranges: readonly OffsetRange[],
  onBatch: ReadBackOptions['onBatch'],
): Promise<RecordOnTopic[]> {
  const remaining = new Map(ranges.filter((r) => r.to > r.from).map((r) => [r.partition, r]));
  const records: RecordOnTopic[] = [];
  if (remaining.size === 0) return records;
  /** The offset to read next of each partition still to read. */
  const next = new Map([...remaining].map(([partition, range]) => [partition, range.from]));
  const groupId = `taobi-read-back-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  readBack.onEnd('deleting the throw-away group', () => admin.deleteGroups([groupId]));
  // A consumer that crashed fails the read, and is not restarted by kafkajs behind it.
  const consumer = kafka.consumer({
    groupId,
    maxWaitTimeInMs: 250,
    allowAutoTopicCreation: false,
    retry: { restartOnFailure: async () => false },
  });
  let running: Promise<void> | undefined;
  readBack.onEnd('disconnecting the consumer', async () => {
    await consumer.disconnect();
    // A consumer disconnected while it was joining can start fetching once the join completes
    // (kafkajs#1639): disconnect it again then.
    if (running) {
      await running.catch(noop);
      await consumer.disconnect();
    }
  });
  consumer.on(consumer.events.CRASH, (event) => readBack.abort(event.payload.error));
  let finish: () => void = noop;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  await readBack.step('connecting the consumer', consumer.connect());
  await readBack.step('subscribing the consumer', consumer.subscribe({ topics: [topic] }));
  running = consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const range = remaining.get(batch.partition);
      const from = next.get(batch.partition);
      if (!range || from === undefined || readBack.over) return;
      const read: RecordOnTopic[] = [];
      let expected = from;
      for (const message of batch.messages) {
        const offset = BigInt(message.offset);
        if (offset < expected) continue;
        if (offset >= range.to) break;
        read.push({
          partition: batch.partition,
          offset: message.offset,
          timestamp: Number(message.timestamp),
          key: message.key?.toString('utf8') ?? null,
          headers: message.headers ?? {},
          value: message.value,
        });
        expected = offset + 1n;
      }
      next.set(batch.partition, expected);
      records.push(...read);
      // Done once the range is read; or once a batch that went on from where the read was (not one
      // fetched from elsewhere before the seek) reached its end past offsets with no record.
      const first = batch.firstOffset();
      const followsOn = first !== null && BigInt(first) <= from;
      if (expected >= range.to || (followsOn && BigInt(batch.lastOffset()) >= range.to - 1n)) {
        remaining.delete(batch.partition);
      }
      onBatch?.(read);
      readBack.progress();
      if (remaining.size === 0) finish();
    },
  });
  await readBack.step('joining the throw-away group', running);
  for (const [partition, start] of next) consumer.seek({ topic, partition, offset: start.toString() });
  const others = partitions.filter((partition) => !next.has(partition));
  if (others.length > 0) consumer.pause([{ topic, partitions: others }]);
  await readBack.step('reading the records', done);
  return records;
}

/**
 * Reads the given offset ranges of `topic`. kafkajs reads only through a consumer group, so this
 * uses a throw-away one whose offsets are set before it joins, and deletes it after. The read fails
 * once it makes no progress for `stallMs`; its clients are cleaned up in the background.
 */
export async function readOffsetRanges(
  kafka: Kafka,
  topic: string,
  ranges: readonly OffsetRange[],
  options: ReadBackOptions = {},
): Promise<RecordOnTopic[]> {
  if (!ranges.some((r) => r.to > r.from)) return [];
  return bounded(kafka, topic, options, async (readBack, admin) => {
    const offsets = await readBack.step('looking up the partitions', admin.fetchTopicOffsets(topic));
    const partitions = offsets.map((o) => o.partition);
    return readRanges(readBack, kafka, admin, topic, partitions, ranges, options.onBatch);
  });
}

/**
 * The records of `topic` whose timestamp is at or after `since`, up to where each partition ended
 * when the read started (its high watermark: what the in-sync replicas acknowledged). Bounded as
 * `readOffsetRanges` is, the offset lookups included.
 */
export async function readTopicSince(
  kafka: Kafka,
  topic: string,
  since: Date,
  options: ReadBackOptions = {},
): Promise<RecordOnTopic[]> {
  return bounded(kafka, topic, options, async (readBack, admin) => {
    const offsets = await readBack.step(
      'looking up where the partitions end',
      admin.fetchTopicOffsets(topic),
    );
    const ends = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
    const starts = await readBack.step(
      'looking up offsets by timestamp',
      admin.fetchTopicOffsetsByTimestamp(topic, since.getTime()),
    );
    const ranges = starts.map(({ partition, offset }) => {
      const to = ends.get(partition) ?? 0n;
      const from = BigInt(offset);
      return { partition, from: from >= 0n ? from : to, to };
    });
    const partitions = offsets.map((o) => o.partition);
    return readRanges(readBack, kafka, admin, topic, partitions, ranges, options.onBatch);
  });
}
