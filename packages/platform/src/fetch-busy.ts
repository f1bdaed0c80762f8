import { retry } from './retry';

export interface BusyFetchOptions {
  /** Attempts in all while the answer is busy (default 20). The last busy answer is returned. */
  attempts?: number;
  /**
   * Also wait out a 503 (default false). A 429 is always waited out: the request was refused before
   * it ran, so any method may repeat it; a 503 only where repeating is safe (a read, or a write
   * made idempotent by its ids or key).
   */
  retryUnavailable?: boolean;
  /** Attempts for a request that could not reach the service (default 1: its error is thrown at once). */
  unreachableAttempts?: number;
  /** Called before each pause: a counter, a progress line. */
  onRetry?: (reason: string, delayMs: number) => void;
}

/** A request that could not reach its service within its attempts; `cause` is fetch's error. */
export class ServiceUnreachable extends Error {
  constructor(url: string, cause: unknown) {
    const error = cause as Error & { cause?: Error };
    super(`${url} is not reachable: ${error.cause?.message ?? error.message}`, { cause });
  }
}

/** A busy answer, waited out for its Retry-After. */
class Busy extends Error {
  constructor(readonly delayMs: number) {
    super(`busy; retry after ${delayMs} ms`);
  }
}

/** The pause a busy answer asks for: its Retry-After (seconds), one second when it has none. */
function retryAfterMs(answer: Response): number {
  const seconds = Number(answer.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 60) * 1000 : 1000;
}

/**
 * `fetch`, waiting out a service that says it is busy: a 429 (a rate limit) and, with
 * `retryUnavailable`, a 503 are asked again after the pause their Retry-After gives, as a client of
 * a rate-limited API should. Other answers, and the last busy one, are returned as they are. The
 * body must be replayable (a string or buffer); `init.signal` bounds every attempt and pause.
 */
export async function fetchUnlessBusy(
  url: string,
  init: RequestInit = {},
  options: BusyFetchOptions = {},
): Promise<Response> {
  const attempts = options.attempts ?? 20;
  const unreachableAttempts = options.unreachableAttempts ?? 1;
  let unreachable = 0;
  return retry(
    async (attempt) => {
      let answer: Response;
      try {
        answer = await fetch(url, init);
      } catch (error) {
        unreachable += 1;
        // (An aborted `init.signal` ends it in `retry`, which throws the signal's reason.)
        if (unreachable >= unreachableAttempts) throw new ServiceUnreachable(url, error);
        throw error;
      }
      const busy = answer.status === 429 || (options.retryUnavailable === true && answer.status === 503);
      if (!busy || attempt >= attempts) return answer;
      await answer.body?.cancel();
      throw new Busy(retryAfterMs(answer));
    },
    {
      attempts: Math.max(attempts, unreachableAttempts),
      delayMs: 400,
      retryIf: (error) => !(error instanceof ServiceUnreachable),
      delayFor: (error) => (error instanceof Busy ? error.delayMs : undefined),
      onRetry: (error, _attempt, delayMs) => options.onRetry?.((error as Error).message, delayMs),
      ...(init.signal ? { signal: init.signal } : {}),
    },
  );
}
