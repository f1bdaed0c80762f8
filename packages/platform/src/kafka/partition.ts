import { Partitioners } from 'kafkajs';

/**
 * The partition a keyed record goes to on a topic of `partitions` partitions: murmur2 of the key,
 * as every Taobi producer (and the Java client) computes it. A reader of one member's records
 * (`pnpm taobi replay --member`) reads only that partition.
 */
export function partitionForKey(key: string, partitions: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  return partitioner({
    topic: 'any',
    partitionMetadata: Array.from({ length: partitions }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    })),
    message: { key, value: null },
  });
}
