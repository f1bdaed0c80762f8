import { createRateLimiter } from './rate-limiter';

describe('createRateLimiter', () => {
  it('when a key sends its burst, then the next request is refused with a Retry-After, and allowed after refill', () => {
    let t = 0;
    const limiter = createRateLimiter({ ratePerSecond: 2, burst: 3, now: () => t });
    expect([1, 2, 3].map(() => limiter.take('food#1').allowed)).toEqual([true, true, true]);
    expect(limiter.take('food#1')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    t += 500;
    expect(limiter.take('food#1').allowed).toBe(true);
    expect(limiter.take('food#1').allowed).toBe(false);
  });

  it('when one key is exhausted, then another key is not affected', () => {
    const limiter = createRateLimiter({ ratePerSecond: 1, burst: 1, now: () => 0 });
    expect(limiter.take('food#1').allowed).toBe(true);
    expect(limiter.take('food#1').allowed).toBe(false);
    expect(limiter.take('food#2').allowed).toBe(true);
  });

  it('when the rate is 0, then nothing is limited', () => {
    const limiter = createRateLimiter({ ratePerSecond: 0, burst: 1, now: () => 0 });
    expect(Array.from({ length: 100 }, () => limiter.take('k').allowed).every(Boolean)).toBe(true);
  });
});
