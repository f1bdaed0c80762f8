import type { Producer } from 'kafkajs';
import { createProducerHandle } from './producer';

/** A stand-in producer that records what happens to it; no test here claims anything about Kafka. */
function fakeProducer(id: number, failSends = false) {
  const state = { id, sends: 0, disconnected: false };
  const producer = {
    sendBatch: async () => {
      state.sends += 1;
      if (failSends) throw new Error(`producer ${id} failed`);
      return [];
    },
    disconnect: async () => {
      state.disconnected = true;
    },
  } as unknown as Producer;
  return { producer, state };
}

describe('createProducerHandle', () => {
  it('when several callers ask at once, then one producer is connected and shared', async () => {
    let connects = 0;
    const handle = createProducerHandle(async () => {
      connects += 1;
      return fakeProducer(connects).producer;
    });
    const [a, b] = await Promise.all([handle.get(), handle.get()]);
    expect(a).toBe(b);
    expect(connects).toBe(1);
  });

  it('when a send fails, then that producer is retired and the next send gets a fresh one', async () => {
    const made = [fakeProducer(1, true), fakeProducer(2)];
    let next = 0;
    const handle = createProducerHandle(
      async () => (made[next++] as ReturnType<typeof fakeProducer>).producer,
    );
    const record = { topic: 't', key: 'm-1', value: { n: 1 } };
    await expect(handle.publish([record])).rejects.toThrow('producer 1 failed');
    expect(made[0]?.state.disconnected).toBe(true);
    await handle.publish([record]);
    expect(made[1]?.state.sends).toBe(1);
    expect(next).toBe(2);
  });

  it('when closed while a producer is still connecting, then that producer is disconnected on arrival', async () => {
    const late = fakeProducer(1);
    let arrive: (p: Producer) => void = () => undefined;
    const handle = createProducerHandle(() => new Promise<Producer>((resolve) => (arrive = resolve)));
    const pending = handle.get();
    const closing = handle.close();
    arrive(late.producer);
    await closing;
    await expect(pending).rejects.toThrow('closed');
    expect(late.state.disconnected).toBe(true);
    await expect(handle.get()).rejects.toThrow('closed');
  });
});
