import type { RetryOptions } from 'kafkajs';

export interface KafkaTimings {
  /** For `createKafka`: the client's own timeouts and its (cluster / connection) retry. */
  client: { connectionTimeout: number; requestTimeout: number; retry: RetryOptions };
  /** For `connectProducer`: the retry of `sendBatch`. */
  producer: { retry: RetryOptions };
}

/**
 * kafkajs settings that make a `sendBatch` settle within `publishTimeoutMs`, so the caller gets
 * a 503 instead of a hang, and no send is still retrying in the background when it does.
 *
 * kafkajs' idempotent producer retries forever by default (retries = MAX_SAFE_INTEGER). Here:
 * - a produce request times out after a quarter of the budget, and `sendBatch` makes 3 attempts
 *   (retries 2) with ~100 ms and ~200 ms pauses, so a broker that holds a connection open but
 *   does not answer fails the send after about 3/4 of the budget plus 0.3 s;
 * - a broker that is down refuses connections, and the client's own retry (used when kafkajs
 *   reconnects inside a send) makes one quick extra attempt, so the send fails in well under a
 *   second;
 * - connecting takes at most 1 s (or the request timeout, if smaller).
 * The pathological case (a broker that accepts TCP but never answers a handshake, during a
 * reconnect inside a send) can take a few request timeouts longer; it is logged, never abandoned.
 * Limiting the idempotent producer's retries is safe here because a producer whose send failed
 * is replaced (see `createBatchingPublisher`), so its sequence numbers are never reused.
 */
export function kafkaTimingsFor(publishTimeoutMs: number): KafkaTimings {
  const requestTimeout = Math.max(250, Math.floor(publishTimeoutMs / 4));
  return {
    client: {
      connectionTimeout: Math.min(1000, requestTimeout),
      requestTimeout,
      retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 500 },
    },
    producer: { retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 } },
  };
}
