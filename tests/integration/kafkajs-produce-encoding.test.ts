/**
 * The kafkajs patch's produce encoding (patches/kafkajs@2.2.4.patch, docs/scale-out.md): encoders
 * on unzeroed pooled buffers, varints written in place, records grouped by partition by pushing,
 * each record encoded from its fields. Produce requests of 1 to 700 records (keys or none, headers
 * or none, repeated headers, timestamps or none, unicode and empty values) are encoded as a producer
 * sends them and read back with kafkajs's own record-batch decoder: every record comes back once,
 * in its order within its partition, field for field; the request is exactly as long as what it
 * holds; each batch's CRC covers its bytes. Encoded twice over a pool filled with different garbage,
 * a request is the same bytes: no byte of it was left unwritten.
 */
import fc from 'fast-check';

// kafkajs's internals, as patched (it has no `exports` map, so they resolve like its entry point).
const kafkajs = (path: string) => require(`kafkajs/src/${path}`);
const produceRequest = kafkajs('protocol/requests/produce/v3/request') as (request: {
  acks: number;
  timeout: number;
  topicData: unknown;
}) => { encode(): Promise<{ buffer: Buffer }> };
const groupMessagesPerPartition = kafkajs('producer/groupMessagesPerPartition') as (options: {
  topic: string;
  partitionMetadata: unknown[];
  messages: Message[];
  partitioner: unknown;
}) => Record<string, Message[]>;
const createTopicData = kafkajs('producer/createTopicData') as (
  topics: { topic: string; partitions: number[]; messagesPerPartition: Record<string, Message[]> }[],
) => { topic: string; partitions: { partition: number; firstSequence?: number }[] }[];
const { DefaultPartitioner } = kafkajs('producer/partitioners') as { DefaultPartitioner: () => unknown };
const Decoder = kafkajs('protocol/decoder');
const decodeRecordBatch = kafkajs('protocol/recordBatch/v0/decoder') as (decoder: unknown) => Promise<{
  records: {
    key: Buffer | null;
    value: Buffer | null;
    headers: Record<string, Buffer | Buffer[]>;
    timestamp: string;
  }[];
}>;
const crc32C = kafkajs('protocol/recordBatch/crc32C') as (buffer: Buffer) => number;

interface Message {
  key: string | null;
  value: string;
  headers?: Record<string, string | string[]>;
  timestamp?: string;
}

const TOPIC = 'taobi.consumption.v1';
const PARTITIONS = Array.from({ length: 12 }, (_, partitionId) => ({ partitionId, leader: 1 }));

/** A produce request as kafkajs's producer builds it (sendMessages), for one topic. */
async function encode(messages: Message[], partitioner = DefaultPartitioner()): Promise<Buffer> {
  const perPartition = groupMessagesPerPartition({
    topic: TOPIC,
    partitionMetadata: PARTITIONS,
    messages,
    partitioner,
  });
  const topicData = createTopicData([
    { topic: TOPIC, partitions: Object.keys(perPartition).map(Number), messagesPerPartition: perPartition },
  ]);
  for (const { partitions } of topicData) for (const entry of partitions) entry.firstSequence = 7;
  return (await produceRequest({ acks: -1, timeout: 30_000, topicData }).encode()).buffer;
}

/** The records of a produce request by partition, read with kafkajs's decoders. */
async function decode(buffer: Buffer) {
  const decoder = new Decoder(buffer);
  decoder.readString(); // transactional id
  expect(decoder.readInt16()).toBe(-1);
  expect(decoder.readInt32()).toBe(30_000);
  const byPartition = new Map<number, Awaited<ReturnType<typeof decodeRecordBatch>>['records']>();
  for (let topics = decoder.readInt32(); topics > 0; topics--) {
    expect(decoder.readString()).toBe(TOPIC);
    for (let partitions = decoder.readInt32(); partitions > 0; partitions--) {
      const partition = decoder.readInt32();
      const size = decoder.readInt32();
      const start = decoder.offset;
      // firstOffset (8), length (4), leader epoch (4), magic (1), CRC (4), then what the CRC covers.
      const batch = buffer.subarray(start, start + size);
      expect(batch.readInt32BE(8)).toBe(size - 12);
      expect(batch.readUInt32BE(17)).toBe(crc32C(batch.subarray(21)));
      const { records } = await decodeRecordBatch(decoder);
      expect(decoder.offset - start).toBe(size);
      byPartition.set(partition, records);
    }
  }
  expect(decoder.offset).toBe(buffer.length);
  return byPartition;
}

const headerName = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);
const text = (maxLength: number) => fc.string({ unit: 'grapheme', maxLength });
const message = (valueLength: number): fc.Arbitrary<Message> =>
  fc.record(
    {
      key: fc.option(text(40), { nil: null }),
      value: fc.oneof(text(valueLength), fc.constant('')),
      headers: fc.dictionary(
        headerName,
        fc.oneof(text(60), fc.array(text(20), { minLength: 1, maxLength: 3 })),
        {
          maxKeys: 3,
        },
      ),
      timestamp: fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 }).map(String),
    },
    { requiredKeys: ['key', 'value'] },
  );
// Each value starts with the record's index, to find it again among the partitions.
const messages = (minLength: number, maxLength: number, valueLength: number) =>
  fc
    .array(message(valueLength), { minLength, maxLength })
    .map((list) => list.map((m, index) => ({ ...m, value: `${index}:${m.value}` })));

/** Mostly small requests (single events batch little), some of 400 to 700 records. */
const requests = fc.oneof(
  { arbitrary: messages(1, 30, 300), weight: 4 },
  { arbitrary: messages(400, 700, 40), weight: 1 },
);

/** Fills Node's buffer pool with `byte`, where unzeroed encoder buffers come from. */
function dirtyPool(byte: number): void {
  for (let i = 0; i < 64; i++) Buffer.allocUnsafe(1024).fill(byte);
}

describe('kafkajs produce encoding (patched)', () => {
  afterEach(() => jest.restoreAllMocks());

  it('when records are encoded into a produce request, then kafkajs decodes every one of them back, field for field', async () => {
    await fc.assert(
      fc.asyncProperty(requests, async (sent) => {
        const before = Date.now();
        dirtyPool(0xa5);
        const byPartition = await decode(await encode(sent));
        const after = Date.now();
        const seen = new Set<number>();
        for (const records of byPartition.values()) {
          let previous = -1;
          for (const record of records) {
            const value = record.value?.toString() ?? '';
            const index = Number(value.slice(0, value.indexOf(':')));
            const original = sent[index] as Message;
            expect(index).toBeGreaterThan(previous); // in the order sent, within the partition
            previous = index;
            expect(seen.has(index)).toBe(false);
            seen.add(index);
            expect(value).toBe(original.value);
            expect(record.key === null ? null : record.key.toString()).toBe(original.key);
            const headers = Object.fromEntries(
              Object.entries(record.headers).map(([name, v]) => [
                name,
                Array.isArray(v) ? v.map(String) : v.toString(),
              ]),
            );
            // A header sent once with a list of one value comes back as that value (kafkajs's decoder).
            const sentHeaders = Object.fromEntries(
              Object.entries(original.headers ?? {}).map(([name, v]) => [
                name,
                Array.isArray(v) && v.length === 1 ? v[0] : v,
              ]),
            );
            expect(headers).toEqual(sentHeaders);
            if (original.timestamp !== undefined) expect(record.timestamp).toBe(original.timestamp);
            else expect(Number(record.timestamp)).toBeGreaterThanOrEqual(before);
            if (original.timestamp === undefined) expect(Number(record.timestamp)).toBeLessThanOrEqual(after);
          }
        }
        expect(seen.size).toBe(sent.length);
      }),
      { numRuns: 25 },
    );
  });

  it('when a request is encoded twice over a pool of different garbage, then it is the same bytes', async () => {
    jest.spyOn(Date, 'now').mockReturnValue(1_764_522_000_000);
    await fc.assert(
      fc.asyncProperty(requests, async (sent) => {
        // The default partitioner starts records without a key at a random partition: this one
        // puts every record where it puts it the second time.
        const partitioner = ({ message: m }: { message: Message }) => Buffer.byteLength(m.value) % 12;
        dirtyPool(0x00);
        const first = await encode(sent, partitioner);
        dirtyPool(0xff);
        const second = await encode(sent, partitioner);
        expect(second.equals(first)).toBe(true);
      }),
      { numRuns: 15 },
    );
  });
});
