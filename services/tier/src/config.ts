import {
  accessKeysConfigSchema,
  baseConfigSchema,
  consumerGroupIdSchema,
  port,
  withConsumerGroup,
} from '@taobi/platform';
import { z } from 'zod';

const flag = z.enum(['true', 'false']).transform((value) => value === 'true');

/** The tier service's environment, parsed once in main.ts. */
export const tierConfigSchema = baseConfigSchema
  .extend(accessKeysConfigSchema.shape)
  .extend({
    PORT: port(8086),
    KAFKA_GROUP_ID: consumerGroupIdSchema,
    /** Members per transaction in the monthly evaluation (each page records its progress). */
    EVALUATION_PAGE_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
    /** Run the monthly evaluation on its schedule and catch up a missed one at start. */
    EVALUATION_SCHEDULE_ENABLED: flag.default(true),
    OUTBOX_POLL_INTERVAL_MS: z.coerce.number().int().positive().default(250),
    /**
     * A refund that takes the score below the tier within this many days of the member's last
     * placement or upgrade takes the tier back at once ("refund-clawback"); 0 turns it off.
     */
    CLAWBACK_DAYS: z.coerce.number().int().min(0).max(366).default(30),
  })
  .transform(withConsumerGroup('tier'));

export type TierConfig = z.infer<typeof tierConfigSchema>;

/** The Postgres schema this service owns. */
export const TIER_SCHEMA = 'tier';
