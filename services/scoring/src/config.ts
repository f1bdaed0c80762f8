import { flag, outboxServiceConfigSchema, withConsumerGroup } from '@taobi/platform';
import { z } from 'zod';

export const scoringConfigSchema = outboxServiceConfigSchema(8085)
  .extend({
    /** Partitions folded at once, each in its own transaction (the topic has 6). */
    CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(6),
    /**
     * Fetch sizes: bigger batches mean fewer transactions and fewer score-changed records per event
     * (one per member per batch). 8 MB is about 18,000 consumption events. See README, "Scoring".
     */
    CONSUMER_MAX_BYTES_PER_PARTITION: z.coerce.number().int().positive().default(8_388_608),
    CONSUMER_MAX_BYTES: z.coerce.number().int().positive().default(67_108_864),
    PG_POOL_MAX: z.coerce.number().int().min(2).max(100).default(10),
    OUTBOX_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(2000),
    /** Runs the monthly evaluation on its day (and a missed one at start). Off: admin calls only. */
    EVALUATION_SCHEDULE_ENABLED: flag.default(true),
    /** Deprecated name of EVALUATION_SCHEDULE_ENABLED (tier's and entitlement's spelling); wins when set. */
    EVALUATION_SCHEDULE: flag.optional(),
    /**
     * Deprecated: the evaluation day is the rule set's (`evaluation.dayOfMonth`), which every
     * service and the CLI read. Still parsed so that a deployment that sets it is not silently
     * changed: a value other than the rule set's refuses the boot (`ruleSetFor`).
     */
    EVALUATION_DAY_OF_MONTH: z.coerce.number().int().min(1).max(28).optional(),
    EVALUATION_CHUNK_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
    /**
     * Orders a backtest reads per page (rounded up to whole members): one read-only transaction,
     * folded while the next page is read, then its progress is saved.
     */
    BACKTEST_PAGE_SIZE: z.coerce.number().int().min(1).max(100_000).default(10_000),
    /** How long an instance holds a backtest without saving progress before another one resumes it. */
    BACKTEST_LEASE_MS: z.coerce.number().int().min(500).max(600_000).default(30_000),
    /** Tier's `CLAWBACK_DAYS` (give scoring the same): a backtest replays the refund clawback with it. */
    CLAWBACK_DAYS: z.coerce.number().int().min(0).max(366).default(30),
    /** The benefit catalogue in force (entitlement's): a backtest's baseline for holders and liability. */
    BENEFIT_CATALOGUE_FILE: z.string().min(1).optional(),
    /** A consumption event dated further ahead of the clock than this goes to the DLQ. */
    MAX_FUTURE_SKEW_MS: z.coerce
      .number()
      .int()
      .nonnegative()
      .default(24 * 3600_000),
    /**
     * Fault injection for tests: after this many committed batch transactions the process kills
     * itself (SIGKILL) before committing the Kafka offsets. Refused in production. 0 = off.
     */
    FAULT_KILL_AFTER_COMMITS: z.coerce.number().int().nonnegative().default(0),
  })
  .superRefine((config, ctx) => {
    if (config.TAOBI_ENV === 'production' && config.FAULT_KILL_AFTER_COMMITS > 0) {
      ctx.addIssue({ code: 'custom', path: ['FAULT_KILL_AFTER_COMMITS'], message: 'refused in production' });
    }
  })
  .transform(withConsumerGroup('scoring'));

export type ScoringConfig = z.infer<typeof scoringConfigSchema>;
