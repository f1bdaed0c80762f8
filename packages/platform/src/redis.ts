import { Redis } from 'ioredis';
import type { Logger } from './logger';

export { Redis } from 'ioredis';

/**
 * Redis is a read model: commands fail fast when it is down (one retry) so callers fall back to
 * Postgres instead of hanging; the client keeps reconnecting in the background.
 */
export function createRedis(options: { url: string; keyPrefix: string; logger: Logger }): Redis {
  const redis = new Redis(options.url, {
    keyPrefix: options.keyPrefix,
    maxRetriesPerRequest: 1,
    connectTimeout: 3000,
    lazyConnect: true,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  let reported = false;
  redis.on('error', (error) => {
    // ioredis emits one error per reconnection attempt; log the first of each outage only.
    if (!reported) options.logger.warn({ err: error }, 'Redis unavailable');
    reported = true;
  });
  redis.on('ready', () => {
    if (reported) options.logger.info('Redis available again');
    reported = false;
  });
  return redis;
}
