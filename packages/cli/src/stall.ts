/**
 * Every wait in the CLI ends: not on a fixed timer (a large backlog may take long), but when nothing
 * has moved for a while. The error then says what is stuck, and the CLI exits non-zero with it.
 */
export class StallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StallError';
  }
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const wallClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface ProgressWait<S> {
  /** What is awaited, for the message: "scoring, tier and entitlement to catch up". */
  what: string;
  /** How long nothing may move before the wait fails. */
  stallMs: number;
  /** Reads the current state. */
  poll: () => Promise<S>;
  done: (state: S) => boolean;
  /** A value that changes whenever work gets done (compared as JSON). */
  progress: (state: S) => unknown;
  /** What is stuck, said when nothing moved: the groups behind, the record missing, ... */
  stuck: (state: S) => string;
  /** Called after each poll that is not done (a progress line). */
  onPoll?: (state: S, elapsedMs: number) => void;
  intervalMs?: number;
  clock?: Clock;
}

/** Polls until `done`; throws StallError naming what is stuck once `progress` stood still for `stallMs`. */
export async function waitForProgress<S>(wait: ProgressWait<S>): Promise<S> {
  const clock = wait.clock ?? wallClock;
  const started = clock.now();
  let mark: string | undefined;
  let movedAt = started;
  for (;;) {
    const state = await wait.poll();
    if (wait.done(state)) return state;
    const now = clock.now();
    const next = JSON.stringify(wait.progress(state)) ?? '';
    if (next !== mark) {
      mark = next;
      movedAt = now;
    }
    wait.onPoll?.(state, now - started);
    if (now - movedAt >= wait.stallMs) {
      throw new StallError(
        `no progress for ${Math.round((now - movedAt) / 1000)} s waiting for ${wait.what}: ${wait.stuck(state)}`,
      );
    }
    await clock.sleep(wait.intervalMs ?? 1000);
  }
}

/**
 * Awaits `work` (which reports its own progress through `progress()`), failing with StallError when
 * that progress stands still for `stallMs` before the work settles.
 */
export async function withStallDeadline<T>(
  work: Promise<T>,
  wait: Pick<ProgressWait<unknown>, 'what' | 'stallMs' | 'intervalMs' | 'clock'> & {
    progress: () => unknown;
    stuck: () => string;
  },
): Promise<T> {
  let outcome: { value: T } | { error: unknown } | undefined;
  const settled = work.then(
    (value) => {
      outcome = { value };
    },
    (error: unknown) => {
      outcome = { error };
    },
  );
  const clock = wait.clock ?? wallClock;
  await waitForProgress({
    ...wait,
    poll: async () => outcome,
    done: (state) => state !== undefined,
    progress: () => wait.progress(),
    stuck: () => wait.stuck(),
    // Wakes as soon as the work settles rather than at the next poll.
    clock: { now: clock.now, sleep: (ms) => Promise.race([clock.sleep(ms), settled]) },
  });
  const result = outcome as { value: T } | { error: unknown };
  if ('error' in result) throw result.error;
  return result.value;
}
