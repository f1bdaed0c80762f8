/** What `withTimeout` rejects with when the time ran out first. */
export class TimedOut extends Error {
  override readonly name = 'TimedOut';
}

/**
 * `work`, or a `TimedOut` (with `message`) once `ms` have passed without it settling. The work is
 * not stopped: it goes on behind, and what it settles to later is nobody's concern.
 */
export function withTimeout<T>(
  work: Promise<T>,
  ms: number,
  message = `no answer within ${ms} ms`,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimedOut(message)), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
