/**
 * The one retry loop in Taobi. p-retry would do, but it ships only ES modules, which jest's
 * CommonJS runtime here cannot load; this is the small part of it the services need.
 */
export interface RetryOptions {
  /** Attempts in all, the first included (default 3); `Infinity` retries until stopped or `deadlineMs`. */
  attempts?: number;
  /** No attempt starts after this many ms from the first one; the last error is thrown. */
  deadlineMs?: number;
  /** The pause before the first retry (default 200 ms); each next pause is `factor` times longer. */
  delayMs?: number;
  /** 2 by default (exponential backoff); 1 polls at a fixed interval. */
  factor?: number;
  /** The longest backoff pause (default 5 s, or `delayMs` when longer). */
  maxDelayMs?: number;
  /** Whether an error is worth another attempt (default: every error). */
  retryIf?: (error: unknown) => boolean;
  /** A pause the error itself asks for (a Retry-After), used instead of the backoff when defined. */
  delayFor?: (error: unknown) => number | undefined;
  /** Called before each pause: a log line, a counter. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Stops retrying: a pause in progress ends and `retry` rejects with the signal's reason. */
  signal?: AbortSignal;
  /** For tests: the clock and the pause. */
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Waits `ms`, or rejects with the signal's reason as soon as it is aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    timer.unref?.();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `task` (given the attempt number, from 1) until it resolves, pausing with backoff between
 * attempts; throws the last error once an error is not retriable, the attempts are spent or the
 * deadline has passed, or the signal's reason once it is aborted.
 */
export async function retry<T>(
  task: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const now = options.now ?? Date.now;
  const pause = options.sleep ?? sleep;
  const attempts = options.attempts ?? 3;
  const factor = options.factor ?? 2;
  let backoffMs = options.delayMs ?? 200;
  const maxDelayMs = options.maxDelayMs ?? Math.max(5000, backoffMs);
  const deadline = options.deadlineMs === undefined ? Number.POSITIVE_INFINITY : now() + options.deadlineMs;
  for (let attempt = 1; ; attempt += 1) {
    if (options.signal?.aborted) throw options.signal.reason;
    try {
      return await task(attempt);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (attempt >= attempts || !(options.retryIf?.(error) ?? true)) throw error;
      const delayMs = options.delayFor?.(error) ?? backoffMs;
      if (now() + delayMs > deadline) throw error;
      options.onRetry?.(error, attempt, delayMs);
      await pause(delayMs, options.signal);
      backoffMs = Math.min(backoffMs * factor, maxDelayMs);
    }
  }
}
