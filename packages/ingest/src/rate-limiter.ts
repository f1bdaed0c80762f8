export interface RateLimiterOptions {
  /** Sustained requests per second per key; 0 turns limiting off. */
  ratePerSecond: number;
  /** Requests a key may send at once after being idle. */
  burst: number;
  now?: () => number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RateLimiter {
  take(id: string): RateDecision;
}

/**
 * A token bucket per key: `burst` tokens, refilled at `ratePerSecond`. One process keeps its own
 * buckets (each replica limits on its own; the limit protects the process and Kafka, it is not a
 * billing quota). Buckets are few (one per configured key), so they are never evicted.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const now = options.now ?? Date.now;
  const buckets = new Map<string, { tokens: number; at: number }>();
  const { ratePerSecond, burst } = options;
  return {
    take(id) {
      if (ratePerSecond <= 0) return { allowed: true };
      const t = now();
      const bucket = buckets.get(id) ?? { tokens: burst, at: t };
      bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.at) / 1000) * ratePerSecond);
      bucket.at = t;
      buckets.set(id, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { allowed: true };
      }
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerSecond)),
      };
    },
  };
}
