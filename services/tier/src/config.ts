import {
  DEVELOPMENT_KEYS,
  flag,
  outboxServiceConfigSchema,
  serviceUrl,
  withConsumerGroup,
} from '@taobi/platform';
import { z } from 'zod';

/** The tier service's environment, parsed once in main.ts. */
export const tierConfigSchema = outboxServiceConfigSchema(8086)
  .extend({
    /** Members per transaction in the monthly evaluation (each page records its progress). */
    EVALUATION_PAGE_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
    /** Run the monthly evaluation on its schedule and catch up a missed one at start. */
    EVALUATION_SCHEDULE_ENABLED: flag.default(true),
    /**
     * Partitions of score-changed handled at once, each batch in its own transaction (a member's
     * records are on one partition, so each member's changes stay in order).
     */
    CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(6),
    /**
     * Where the rule sets come from: `scoring` (its registry, `GET /v1/rules/versions`: adopted
     * versions included) or `file` (RULE_SET_FILE alone: tests, a deployment that never adopts).
     */
    RULE_SETS_FROM: z.enum(['scoring', 'file']).default('scoring'),
    /** Scoring's base URL (else the local stack's port, moved by TAOBI_PORT_OFFSET). */
    TAOBI_SCORING_URL: z.url().optional(),
    TAOBI_PORT_OFFSET: z.coerce.number().int().min(0).max(60_000).default(0),
    /** The read key tier presents to scoring's rules API. */
    SCORING_READ_KEY: z.string().min(8).default(DEVELOPMENT_KEYS.read),
    /** How often the copy of scoring's rule-set registry is refreshed (evaluations always refresh). */
    RULE_SETS_REFRESH_MS: z.coerce.number().int().min(1000).default(30_000),
    /**
     * A refund that takes the score below the tier within this many days of the member's last
     * placement or upgrade takes the tier back at once ("refund-clawback"); 0 turns it off.
     */
    CLAWBACK_DAYS: z.coerce.number().int().min(0).max(366).default(30),
  })
  .transform(withConsumerGroup('tier'))
  .transform((config) => ({
    ...config,
    SCORING_URL: serviceUrl('scoring', {
      TAOBI_SCORING_URL: config.TAOBI_SCORING_URL,
      TAOBI_PORT_OFFSET: config.TAOBI_PORT_OFFSET,
    }),
  }));

export type TierConfig = z.infer<typeof tierConfigSchema>;

/** The Postgres schema this service owns. */
export const TIER_SCHEMA = 'tier';
