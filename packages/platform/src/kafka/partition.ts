import { type ICustomPartitioner, Partitioners } from 'kafkajs';

/**
 * Kafka's murmur2 of a key (the Java client's `Utils.murmur2`, which kafkajs' default partitioner
 * ports), in 32-bit integer arithmetic. kafkajs computes it on 64-bit `Long` objects, several per
 * byte quad, of which only the low 32 bits reach the result: about 1 us per record sent, for the
 * same hash (tested against kafkajs' own on random keys).
 */
export function murmur2(key: Buffer | string): number {
  const data = Buffer.isBuffer(key) ? key : Buffer.from(key);
  const length = data.length;
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const quads = length & ~3;
  for (let i = 0; i < quads; i += 4) {
    let k = data.readInt32LE(i);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  // The last one to three bytes, the last of them highest.
  const tail = length & 3;
  if (tail > 0) {
    if (tail === 3) h ^= (data[quads + 2] as number) << 16;
    if (tail >= 2) h ^= (data[quads + 1] as number) << 8;
    h ^= data[quads] as number;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * kafkajs' default partitioner (murmur2 of the key, as the Java client: a key lands on the same
 * partition whoever produces it), with the key's hash computed by `murmur2` above. A record
 * without a key, or with its partition given, is placed by kafkajs' own partitioner.
 */
export const keyPartitioner: ICustomPartitioner = () => {
  const otherwise = Partitioners.DefaultPartitioner();
  return (args) => {
    const { message, partitionMetadata } = args;
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    if (message.key === null || message.key === undefined) return otherwise(args);
    return (murmur2(message.key) & 0x7fffffff) % partitionMetadata.length;
  };
};

/**
 * The partition a keyed record goes to on a topic of `partitions` partitions: murmur2 of the key,
 * as every Taobi producer (and the Java client) computes it. A reader of one member's records
 * (`pnpm taobi replay --member`) reads only that partition.
 */
export function partitionForKey(key: string, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}
