import * as crypto from 'node:crypto';
import { z } from 'zod';

/** `memberId`, `orderId`, `refundId`: 1 to 64 of `[A-Za-z0-9_.:-]` (docs/design.md, "Record fields"). */
export const externalIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1 to 64 characters of A-Z a-z 0-9 _ . : -');

export const memberIdSchema = externalIdSchema;

/** The instants every store and record can hold: years 0001 to 9999 in UTC (Postgres has no year 0). */
const EARLIEST = Date.parse('0001-01-01T00:00:00Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');

/** Whether an instant (any `Date.parse` input) is in years 0001 to 9999 once in UTC. */
export const inInstantRange = (value: string): boolean => {
  const at = Date.parse(value);
  return at >= EARLIEST && at <= LATEST;
};

/** ISO-8601 with an explicit offset (`Z` or `+08:00`), in years 0001 to 9999 once in UTC. */
export const isoTimeSchema = z.iso.datetime({ offset: true }).refine(inInstantRange, {
  message: 'must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z',
  // Only a well-formed time is checked for range: a malformed one has its own single issue.
  when: (payload) => payload.issues.length === 0,
});

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

/**
 * The digest of a small input, in lower-case hex. The one-shot `crypto.hash` (Node 20.12+) is about
 * twice as fast as a `createHash` object per call, which counted: every ingested event gets an id
 * (`uuidV5`) and scoring checks every consumption event's, and every keyed request hashes its key
 * (`KeySet`).
 */
export const digestOf: (algorithm: 'sha1' | 'sha256', data: Buffer | string) => string =
  typeof crypto.hash === 'function'
    ? (algorithm, data) => crypto.hash(algorithm, data, 'hex')
    : (algorithm, data) => crypto.createHash(algorithm).update(data).digest('hex');

/**
 * A name-based (version 5, SHA-1) UUID of `parts` under `namespace` (16 bytes). The parts are
 * joined with NUL, which no id in Taobi contains, so distinct tuples never collide by concatenation.
 * One hash of one buffer, in hex, whose version and variant digits are then set (every ingested
 * event gets one: half the time of hashing a concatenation and formatting the bytes).
 */
export function uuidV5(namespace: Buffer, parts: readonly string[]): string {
  const name = parts.join('\u0000');
  const data = Buffer.allocUnsafe(namespace.length + Buffer.byteLength(name));
  namespace.copy(data);
  data.write(name, namespace.length);
  const hex = digestOf('sha1', data);
  // Version 5 in the 13th digit; the variant (binary 10xx) in the 17th.
  const variant = ((Number.parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
