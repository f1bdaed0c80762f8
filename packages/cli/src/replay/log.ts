import { randomBytes } from 'node:crypto';
import type { Kafka } from '@taobi/platform';

/** A record as read from the consumption topic: where it is, when the broker appended it, its JSON. */
export interface LogRecord {
  partition: number;
  offset: string;
  /** The broker's append time (ms), what retention deletes by. */
  timestamp: number;
  key: string | null;
  /** The parsed JSON value; undefined when it is not JSON (such a record is dead-lettered). */
  value: unknown;
}

export interface PartitionRange {
  partition: number;
  /** The earliest offset still on the broker: above 0 once retention deleted older records. */
  low: bigint;
  /** The offset after the last record when the read started. */
  high: bigint;
}

/**
 * Reads `partitions` of `topic` from their earliest offset to where they ended when the read
 * started, in a throw-away consumer group (kafkajs assigns partitions through a group, so the
 * others are paused as soon as it joins; the group is deleted after). `onProgress` gets the
 * records read and the total to read.
 */
export async function readPartitions(
  kafka: Kafka,
  topic: string,
  /** The partitions to read, given the topic's partition count; `all` for every one. */
  partitions: ((count: number) => readonly number[]) | 'all',
  onProgress: (read: bigint, total: bigint) => void = () => undefined,
  stallMs = 60_000,
): Promise<{ records: LogRecord[]; ranges: PartitionRange[] }> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `taobi-replay-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const selected = partitions === 'all' ? undefined : partitions(offsets.length);
    const ranges = offsets
      .filter((o) => selected === undefined || selected.includes(o.partition))
      .map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) }));
    const wanted = ranges.filter((r) => r.high > r.low);
    const total = wanted.reduce((sum, r) => sum + (r.high - r.low), 0n);
    const records: LogRecord[] = [];
    if (wanted.length === 0) return { records, ranges };
    const remaining = new Map(wanted.map((r) => [r.partition, r]));
    const others = offsets.map((o) => o.partition).filter((p) => !remaining.has(p));
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
    let read = 0n;
    let settle: { resolve: () => void; reject: (error: unknown) => void } | undefined;
    const done = new Promise<void>((resolve, reject) => {
      settle = { resolve, reject };
    });
    // A read that stops moving fails, saying where it stands (never a wait without end).
    let idle: NodeJS.Timeout | undefined;
    const watch = () => {
      clearTimeout(idle);
      idle = setTimeout(
        () => settle?.reject(new Error(`reading ${topic} stalled after ${read} of ${total} records`)),
        stallMs,
      );
    };
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (others.length > 0) consumer.pause([{ topic, partitions: others }]);
    });
    consumer.on(consumer.events.CRASH, (event) => settle?.reject(event.payload.error));
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      watch();
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const range = remaining.get(batch.partition);
          if (!range) return;
          for (const message of batch.messages) {
            if (BigInt(message.offset) >= range.high) break;
            let value: unknown;
            try {
              value = message.value ? JSON.parse(message.value.toString('utf8')) : undefined;
            } catch {
              value = undefined;
            }
            records.push({
              partition: batch.partition,
              offset: message.offset,
              timestamp: Number(message.timestamp),
              key: message.key?.toString('utf8') ?? null,
              value,
            });
            read += 1n;
          }
          if (BigInt(batch.lastOffset()) >= range.high - 1n) remaining.delete(batch.partition);
          onProgress(read, total);
          watch();
          if (remaining.size === 0) settle?.resolve();
        },
      });
      await done;
    } finally {
      clearTimeout(idle);
      await consumer.disconnect();
    }
    return { records, ranges };
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
