import {
  commerceKeysConfigSchema,
  flag,
  outboxServiceConfigSchema,
  withConsumerGroup,
} from '@taobi/platform';
import { z } from 'zod';

/** The entitlement service's environment, parsed once in main.ts. */
export const entitlementConfigSchema = outboxServiceConfigSchema(8087)
  .extend(commerceKeysConfigSchema.shape)
  .extend({
    /**
     * A catalogue JSON file replacing the one shipped in @taobi/benefits (a new version without a new
     * build); it is validated at boot and the service refuses to start if it does not parse.
     */
    BENEFIT_CATALOGUE_FILE: z.string().min(1).optional(),
    /**
     * Run the scheduled jobs: the periodic issue (each period's start, 00:00 Asia/Shanghai) and the
     * 88VIP term ends (every VIP88_TERM_END_INTERVAL_MS), each also once at start. Tests turn it off
     * and call the admin APIs.
     */
    PERIODIC_SCHEDULE_ENABLED: flag.default(true),
    /** How often the term-end job looks for 88VIP terms that ended (their bundles are then revoked). */
    VIP88_TERM_END_INTERVAL_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
    /** Members per transaction in the periodic issue. */
    PERIODIC_PAGE_SIZE: z.coerce.number().int().min(1).max(10_000).default(1000),
  })
  .transform(withConsumerGroup('entitlement'));

export type EntitlementConfig = z.infer<typeof entitlementConfigSchema>;
