import { randomBytes } from 'node:crypto';
import type { IHeaders, Kafka } from 'kafkajs';

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

/**
 * Reads the given offset ranges of `topic`. kafkajs reads only through a consumer group, so this
 * uses a throw-away one whose offsets are set before it joins (each range's start; a partition not
 * asked for starts at its end), and deletes it after. `onBatch` sees each batch as it comes (for
 * progress). A read that stops moving for `stallMs` fails rather than waiting without end.
 */
export async function readOffsetRanges(
  kafka: Kafka,
  topic: string,
  ranges: readonly OffsetRange[],
  options: { stallMs?: number; onBatch?: (records: readonly RecordOnTopic[]) => void } = {},
): Promise<RecordOnTopic[]> {
  const remaining = new Map(ranges.filter((r) => r.to > r.from).map((r) => [r.partition, r]));
  const records: RecordOnTopic[] = [];
  if (remaining.size === 0) return records;
  const stallMs = options.stallMs ?? 30_000;
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `taobi-read-back-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({
      groupId,
      topic,
      partitions: ends.map(({ partition, high }) => ({
        partition,
        offset: (remaining.get(partition)?.from ?? BigInt(high)).toString(),
      })),
    });
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
    let settle: { resolve: () => void; reject: (error: unknown) => void } | undefined;
    const done = new Promise<void>((resolve, reject) => {
      settle = { resolve, reject };
    });
    let idle: NodeJS.Timeout | undefined;
    let settled = false;
    const markSettled = () => {
      settled = true;
    };
    done.then(markSettled, markSettled);
    // No timer outlives the read: a batch arriving while the consumer disconnects sets none.
    const watch = () => {
      clearTimeout(idle);
      if (settled) return;
      idle = setTimeout(
        () => settle?.reject(new Error(`reading ${topic} stalled after ${records.length} records`)),
        stallMs,
      );
      idle.unref();
    };
    consumer.on(consumer.events.CRASH, (event) => settle?.reject(event.payload.error));
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic] });
      watch();
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const range = remaining.get(batch.partition);
          if (!range) return;
          const read: RecordOnTopic[] = [];
          for (const message of batch.messages) {
            if (BigInt(message.offset) >= range.to) break;
            read.push({
              partition: batch.partition,
              offset: message.offset,
              timestamp: Number(message.timestamp),
              key: message.key?.toString('utf8') ?? null,
              headers: message.headers ?? {},
              value: message.value,
            });
          }
          records.push(...read);
          if (BigInt(batch.lastOffset()) >= range.to - 1n) remaining.delete(batch.partition);
          options.onBatch?.(read);
          watch();
          if (remaining.size === 0) settle?.resolve();
        },
      });
      await done;
    } finally {
      clearTimeout(idle);
      await consumer.disconnect();
    }
    return records;
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

/**
 * The records of `topic` whose timestamp is at or after `since`, up to where each partition ended
 * when the read started (its high watermark: what the in-sync replicas acknowledged).
 */
export async function readTopicSince(kafka: Kafka, topic: string, since: Date): Promise<RecordOnTopic[]> {
  const admin = kafka.admin();
  await admin.connect();
  let ranges: OffsetRange[];
  try {
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
    const starts = await admin.fetchTopicOffsetsByTimestamp(topic, since.getTime());
    ranges = starts.map(({ partition, offset }) => {
      const to = ends.get(partition) ?? 0n;
      const from = BigInt(offset);
      return { partition, from: from >= 0n ? from : to, to };
    });
  } finally {
    await admin.disconnect();
  }
  return readOffsetRanges(kafka, topic, ranges);
}
