/**
 * The batching and failure logic of the publisher, over a scripted producer. Delivery itself (acks,
 * keys, exactly-once-per-202) is tested against the real broker in services/ingest-*\/test.
 */
import type { OutgoingRecord, Producer } from '@taobi/platform';
import { createLogger } from '@taobi/platform';
import { type BatchingPublisherOptions, createBatchingPublisher, PublishError } from './batching-publisher';

interface Deferred {
  resolve: () => void;
  reject: (error: Error) => void;
}

/** A producer whose every sendBatch waits until the test settles it. */
function scriptedProducer() {
  const sends: { messages: number; settle: Deferred }[] = [];
  let disconnected = 0;
  const producer = {
    sendBatch: (batch: { topicMessages: { messages: unknown[] }[] }) =>
      new Promise((resolve, reject) => {
        const messages = batch.topicMessages.reduce((n, t) => n + t.messages.length, 0);
        sends.push({ messages, settle: { resolve: () => resolve([]), reject } });
      }),
    disconnect: async () => {
      disconnected += 1;
    },
  } as unknown as Producer;
  return { producer, sends, disconnected: () => disconnected };
}

const records = (n: number, tag = 'r'): OutgoingRecord[] =>
  Array.from({ length: n }, (_, i) => ({ topic: 't', key: `m-${i}`, value: { tag, i } }));

const until = async (condition: () => boolean) => {
  const deadline = Date.now() + 2000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setImmediate(resolve));
  }
};

function publisher(overrides: Partial<BatchingPublisherOptions> & { connect: () => Promise<Producer> }) {
  return createBatchingPublisher({
    lingerMs: 20,
    maxBatchRecords: 1000,
    timeoutMs: 1000,
    logger: createLogger({ name: 'test', level: 'silent' }),
    ...overrides,
  });
}

describe('createBatchingPublisher', () => {
  it('when requests arrive within the linger, then they share one sendBatch and resolve after its ack', async () => {
    const kafka = scriptedProducer();
    const subject = publisher({ connect: async () => kafka.producer });
    let resolved = 0;
    const requests = [records(1), records(3), records(2)].map((r) =>
      subject.publish(r).then(() => resolved++),
    );
    await until(() => kafka.sends.length === 1);
    expect(kafka.sends[0]?.messages).toBe(6);
    expect(resolved).toBe(0);
    kafka.sends[0]?.settle.resolve();
    await Promise.all(requests);
    expect(resolved).toBe(3);
  });

  it('when the batch fills up, then it goes without waiting, and a request is never split', async () => {
    const kafka = scriptedProducer();
    const subject = publisher({ connect: async () => kafka.producer, lingerMs: 60_000, maxBatchRecords: 5 });
    const first = subject.publish(records(3));
    const second = subject.publish(records(4));
    await until(() => kafka.sends.length === 1);
    expect(kafka.sends[0]?.messages).toBe(3);
    kafka.sends[0]?.settle.resolve();
    await until(() => kafka.sends.length === 2);
    expect(kafka.sends[1]?.messages).toBe(4);
    kafka.sends[1]?.settle.resolve();
    await Promise.all([first, second]);
  });

  it('when a send fails, then its requests and those queued behind it fail, and the producer is replaced', async () => {
    const kafka = scriptedProducer();
    let connects = 0;
    const subject = publisher({
      connect: async () => {
        connects += 1;
        return kafka.producer;
      },
    });
    const inFlight = subject.publish(records(2));
    await until(() => kafka.sends.length === 1);
    const queued = subject.publish(records(1));
    kafka.sends[0]?.settle.reject(new Error('broker went away'));
    await expect(inFlight).rejects.toBeInstanceOf(PublishError);
    await expect(queued).rejects.toBeInstanceOf(PublishError);
    expect(kafka.sends).toHaveLength(1);
    expect(kafka.disconnected()).toBe(1);

    const later = subject.publish(records(1));
    await until(() => kafka.sends.length === 2);
    expect(connects).toBe(2);
    kafka.sends[1]?.settle.resolve();
    await expect(later).resolves.toBeUndefined();
  });

  it('when a send outlasts the deadline, then its requests wait for the outcome rather than fail early', async () => {
    const kafka = scriptedProducer();
    const subject = publisher({ connect: async () => kafka.producer, timeoutMs: 30, lingerMs: 0 });
    let settled = false;
    const request = subject.publish(records(1)).finally(() => {
      settled = true;
    });
    await until(() => kafka.sends.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(settled).toBe(false);
    kafka.sends[0]?.settle.resolve();
    await expect(request).resolves.toBeUndefined();
  });

  it('when a request waited past its deadline behind a slow send, then it fails without being sent', async () => {
    const kafka = scriptedProducer();
    const subject = publisher({ connect: async () => kafka.producer, timeoutMs: 30, lingerMs: 0 });
    const slow = subject.publish(records(1));
    await until(() => kafka.sends.length === 1);
    const behind = subject.publish(records(1));
    await new Promise((resolve) => setTimeout(resolve, 60));
    kafka.sends[0]?.settle.resolve();
    await slow;
    await expect(behind).rejects.toThrow(/deadline/);
    expect(kafka.sends).toHaveLength(1);
  });

  it('when no producer connects within the deadline, then the request fails and nothing is sent', async () => {
    const kafka = scriptedProducer();
    const subject = publisher({ connect: () => new Promise<Producer>(() => undefined), timeoutMs: 50 });
    await expect(subject.publish(records(1))).rejects.toThrow(/no Kafka producer/);
    expect(kafka.sends).toHaveLength(0);
  });

  it('when closed, then what is queued is sent first, and later publishes are refused', async () => {
    const kafka = scriptedProducer();
    const subject = publisher({ connect: async () => kafka.producer, lingerMs: 60_000 });
    const queued = subject.publish(records(2));
    const closing = subject.close();
    await until(() => kafka.sends.length === 1);
    kafka.sends[0]?.settle.resolve();
    await queued;
    await closing;
    expect(kafka.disconnected()).toBe(1);
    await expect(subject.publish(records(1))).rejects.toThrow(/shutting down/);
  });
});
