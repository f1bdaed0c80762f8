import { z } from 'zod';
import { isoTimeSchema, uuidV5 } from './common';

/**
 * `taobi.consumption.dlq.v1`: a record a consumer could not process, with the reason and the
 * original bytes, so nothing is silently dropped and an operator can replay it.
 */
export const deadLetterSchema = z.object({
  /** `deadLetterEventId(consumerGroup, origin)`: the same record lettered again keeps its id. */
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

/** A fixed UUID namespace for dead-letter ids (RFC 4122 name-based, SHA-1). */
const DEAD_LETTER_NAMESPACE = Buffer.from('0b7d3e5a9c2f4e18a6d1c4b8e2f70a93', 'hex');

/**
 * A dead letter's id: a version-5 UUID of the group that lettered the record and the record's
 * origin (topic, partition, offset). A batch delivered again letters its records under the same
 * ids, so a DLQ reader dedupes them; two groups lettering one record stay distinct.
 */
export function deadLetterEventId(
  consumerGroup: string,
  origin: { topic: string; partition: number; offset: string },
): string {
  return uuidV5(DEAD_LETTER_NAMESPACE, [
    consumerGroup,
    origin.topic,
    String(origin.partition),
    origin.offset,
  ]);
}
