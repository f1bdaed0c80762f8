import { z } from 'zod';
import { isoTimeSchema } from './common';

/**
 * `taobi.consumption.dlq.v1`: a record a consumer could not process, with the reason and the
 * original bytes, so nothing is silently dropped and an operator can replay it.
 */
export const deadLetterSchema = z.object({
  eventId: z.string().min(1),
  schemaVersion: z.literal(1),
  /** The member, when it could be read from the record; null otherwise. */
  memberId: z.string().nullable(),
  occurredAt: isoTimeSchema,
  consumerGroup: z.string(),
  origin: z.object({
    topic: z.string(),
    partition: z.number().int().nonnegative(),
    offset: z.string(),
    key: z.string().nullable(),
  }),
  reason: z.string(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })),
  /** The original record value, base64-encoded (it may not even be UTF-8). */
  originalValue: z.string().nullable(),
  /**
   * With reason `conflicting-duplicate`: the version the consumer kept for this eventId, as it
   * stored it (JSON). `originalValue` is the refused version and `errors` names each field where
   * the two differ. Absent for every other reason.
   */
  storedValue: z.record(z.string(), z.unknown()).optional(),
});
export type DeadLetter = z.infer<typeof deadLetterSchema>;
