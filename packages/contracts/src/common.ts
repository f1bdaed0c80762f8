import { z } from 'zod';

/** `memberId`, `orderId`, `refundId`: 1 to 64 of `[A-Za-z0-9_.:-]` (docs/design.md, "Record fields"). */
export const externalIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1 to 64 characters of A-Z a-z 0-9 _ . : -');

export const memberIdSchema = externalIdSchema;

/** ISO-8601 with an explicit offset (`Z` or `+08:00`). */
export const isoTimeSchema = z.iso.datetime({ offset: true });

/** Fields every record on every topic carries. */
export const envelopeSchema = z.object({
  eventId: z.string().min(1).max(128),
  schemaVersion: z.literal(1),
  memberId: memberIdSchema,
  occurredAt: isoTimeSchema,
});

export type Envelope = z.infer<typeof envelopeSchema>;

/** A calendar month in Asia/Shanghai, e.g. `2026-11`. */
export const monthSchema = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be YYYY-MM');
