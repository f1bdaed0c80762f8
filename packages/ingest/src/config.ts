import { baseConfigSchema, port } from '@taobi/platform';
import { z } from 'zod';
import { ingestKeysSchema } from './keys';

const int = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/**
 * The configuration every ingest service reads (README, "Ingest API"), with the service's own
 * default port.
 */
export function ingestConfigSchema(defaultPort: number) {
  return baseConfigSchema.extend({
    PORT: port(defaultPort),
    /**
     * `<source>:<key>,...`; unset: the development keys of every source of the rule set
     * (`developmentIngestKeys`), which production refuses.
     */
    INGEST_API_KEYS: ingestKeysSchema.optional(),
    /** Longest a request waits for Kafka before a 503 (drives kafkajs' timeouts and retries). */
    PUBLISH_TIMEOUT_MS: int(1000, 120_000, 10_000),
    /** How long the first request of an idle publisher waits for others to share its sendBatch. */
    PUBLISH_LINGER_MS: int(0, 1000, 2),
    /** Records after which a sendBatch goes at once (a request is never split). */
    PUBLISH_MAX_BATCH_RECORDS: int(1, 20_000, 2000),
    /** Retry-After on a 503. */
    INGEST_RETRY_AFTER_SECONDS: int(1, 3600, 5),
    INGEST_BODY_LIMIT_BYTES: int(16 * 1024, 16 * 1024 * 1024, 1024 * 1024),
    /** How far ahead of the service clock an occurredAt may be. */
    INGEST_MAX_FUTURE_MS: int(0, 24 * 3600_000, 5 * 60_000),
    /** Requests per second per key (0: no limit), and the burst a key may send at once. */
    INGEST_RATE_LIMIT_PER_SECOND: int(0, 1_000_000, 1000),
    INGEST_RATE_LIMIT_BURST: int(1, 1_000_000, 2000),
  });
}

export type IngestConfig = z.infer<ReturnType<typeof ingestConfigSchema>>;
