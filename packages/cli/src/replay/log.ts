import { type Kafka, readOffsetRanges } from '@taobi/platform';

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
 * started (platform's `readOffsetRanges`, a throw-away consumer group). `onProgress` gets the
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
  let ranges: PartitionRange[];
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const selected = partitions === 'all' ? undefined : partitions(offsets.length);
    ranges = offsets
      .filter((o) => selected === undefined || selected.includes(o.partition))
      .map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) }));
  } finally {
    await admin.disconnect();
  }
  const total = ranges.reduce((sum, r) => sum + (r.high - r.low), 0n);
  let read = 0n;
  const raw = await readOffsetRanges(
    kafka,
    topic,
    ranges.map((r) => ({ partition: r.partition, from: r.low, to: r.high })),
    {
      stallMs,
      onBatch: (batch) => {
        read += BigInt(batch.length);
        onProgress(read, total);
      },
    },
  );
  const records = raw.map((record): LogRecord => {
    let value: unknown;
    try {
      value = record.value ? JSON.parse(record.value.toString('utf8')) : undefined;
    } catch {
      value = undefined;
    }
    return {
      partition: record.partition,
      offset: record.offset,
      timestamp: record.timestamp,
      key: record.key,
      value,
    };
  });
  return { records, ranges };
}
