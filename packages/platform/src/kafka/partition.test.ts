import { randomBytes } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { keyPartitioner, murmur2, partitionForKey } from './partition';

// kafkajs' own murmur2 (on 64-bit Longs), which ours must equal.
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (
  key: Buffer | string,
) => number;

const metadata = (partitions: number) =>
  Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));

/** Keys of every length up to 70 bytes (each tail length), ASCII ids and arbitrary UTF-8 text. */
function keys(): (string | Buffer)[] {
  const out: (string | Buffer)[] = ['', 'a', 'm-1', 'member-42', '会员-一二三', '\u0000\u00ff\uffff'];
  for (let i = 0; i < 3000; i++) {
    const bytes = randomBytes(i % 71);
    out.push(i % 3 === 0 ? bytes : i % 3 === 1 ? bytes.toString('base64url') : bytes.toString('utf8'));
  }
  return out;
}

describe('murmur2', () => {
  it('when given any key, then it hashes it as kafkajs (and the Java client) does', () => {
    for (const key of keys()) expect([key, murmur2(key)]).toEqual([key, kafkajsMurmur2(key)]);
  });
});

describe('keyPartitioner', () => {
  it('when a record has a key, then it goes to the partition kafkajs’ default partitioner picks', () => {
    const ours = keyPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 3, 6, 7, 64]) {
      const partitionMetadata = metadata(partitions);
      for (const key of keys().slice(0, 500)) {
        const args = { topic: 't', partitionMetadata, message: { key, value: null } };
        expect([key, ours(args)]).toEqual([key, theirs(args)]);
        if (typeof key === 'string') expect(partitionForKey(key, partitions)).toBe(theirs(args));
      }
    }
  });

  it('when a record names its partition, then it goes there; without a key, then to every partition in turn', () => {
    const ours = keyPartitioner();
    const partitionMetadata = metadata(6);
    expect(ours({ topic: 't', partitionMetadata, message: { key: 'k', value: null, partition: 4 } })).toBe(4);
    const unkeyed = Array.from({ length: 6 }, () =>
      ours({ topic: 't', partitionMetadata, message: { key: null, value: null } }),
    );
    expect([...unkeyed].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
