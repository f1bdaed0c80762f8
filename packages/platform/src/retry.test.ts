import { retry, sleep } from './retry';

/** A clock that moves only when the retry pauses, so no test here waits for real. */
function fakeTime() {
  let t = 0;
  const pauses: number[] = [];
  return {
    pauses,
    now: () => t,
    sleep: async (ms: number) => {
      pauses.push(ms);
      t += ms;
    },
  };
}

function failing(times: number, error: unknown = new Error('not yet')) {
  const calls: number[] = [];
  const task = async (attempt: number) => {
    calls.push(attempt);
    if (calls.length <= times) throw error;
    return 'done';
  };
  return { task, calls };
}

describe('retry', () => {
  it('when the task fails twice, then it is run a third time after pauses that double', async () => {
    const time = fakeTime();
    const { task, calls } = failing(2);
    await expect(retry(task, { attempts: 5, delayMs: 100, ...time })).resolves.toBe('done');
    expect(calls).toEqual([1, 2, 3]);
    expect(time.pauses).toEqual([100, 200]);
  });

  it('when the attempts are spent, then the last error is thrown', async () => {
    const time = fakeTime();
    const { task, calls } = failing(10, new Error('still down'));
    await expect(retry(task, { attempts: 3, ...time })).rejects.toThrow('still down');
    expect(calls).toHaveLength(3);
  });

  it('when the backoff grows past maxDelayMs, then the pauses stay at it', async () => {
    const time = fakeTime();
    const { task } = failing(5);
    await retry(task, { attempts: 10, delayMs: 100, maxDelayMs: 300, ...time });
    expect(time.pauses).toEqual([100, 200, 300, 300, 300]);
  });

  it('when factor is 1, then it polls at a fixed interval until the deadline', async () => {
    const time = fakeTime();
    const { task, calls } = failing(100, new Error('no leader'));
    await expect(
      retry(task, { attempts: Number.POSITIVE_INFINITY, deadlineMs: 1000, delayMs: 100, factor: 1, ...time }),
    ).rejects.toThrow('no leader');
    expect(calls).toHaveLength(11);
    expect(new Set(time.pauses)).toEqual(new Set([100]));
  });

  it('when an error is not retriable, then it is thrown at once', async () => {
    const time = fakeTime();
    const { task, calls } = failing(5, new TypeError('bad input'));
    await expect(retry(task, { retryIf: (e) => !(e instanceof TypeError), ...time })).rejects.toThrow(
      'bad input',
    );
    expect(calls).toEqual([1]);
  });

  it('when the error names its own delay, then that pause is used and onRetry is told', async () => {
    const time = fakeTime();
    const seen: [number, number][] = [];
    const { task } = failing(1, Object.assign(new Error('busy'), { retryAfterMs: 7000 }));
    await retry(task, {
      delayFor: (e) => (e as { retryAfterMs?: number }).retryAfterMs,
      onRetry: (_error, attempt, delayMs) => seen.push([attempt, delayMs]),
      ...time,
    });
    expect(time.pauses).toEqual([7000]);
    expect(seen).toEqual([[1, 7000]]);
  });

  it('when the signal is aborted during a pause, then retry rejects with its reason at once', async () => {
    const controller = new AbortController();
    const { task, calls } = failing(100);
    const started = Date.now();
    const running = retry(task, {
      attempts: Number.POSITIVE_INFINITY,
      delayMs: 60_000,
      signal: controller.signal,
    });
    setImmediate(() => controller.abort(new Error('stopped')));
    await expect(running).rejects.toThrow('stopped');
    expect(calls).toEqual([1]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('sleep resolves after its time', async () => {
    const started = Date.now();
    await sleep(20);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
  });
});
