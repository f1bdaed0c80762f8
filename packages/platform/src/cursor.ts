import { z } from 'zod';
import { Errors } from './errors';

/** A page size (`limit`) parameter: a whole number from 1 to `max`; `fallback` when absent. */
export const pageLimit = (max: number, fallback: number) =>
  z.coerce.number().int().min(1).max(max).default(fallback);

/**
 * Parses a paging parameter with `schema`; anything it refuses is a 400 INVALID_CURSOR naming
 * `field`. The schema must admit only values the queries behind it can take (types, date range,
 * characters), so a forged cursor is a client error, never a database one.
 */
export function parseCursor<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw Errors.invalidCursor(field);
  return parsed.data;
}

/**
 * An opaque keyset cursor: a JSON tuple in base64url. `decode` accepts exactly what `encode` could
 * have produced: it must decode, pass `schema`, and encode back to the same text.
 */
export function cursorCodec<T>(schema: z.ZodType<T>, field = 'cursor') {
  const encode = (values: T): string => Buffer.from(JSON.stringify(values)).toString('base64url');
  return {
    encode,
    decode(text: string): T {
      let json: unknown;
      try {
        json = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
      } catch {
        throw Errors.invalidCursor(field);
      }
      const values = parseCursor(schema, json, field);
      if (encode(values) !== text) throw Errors.invalidCursor(field);
      return values;
    },
  };
}
