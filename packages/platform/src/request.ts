import type { z } from 'zod';
import { Errors, fieldErrorsFromZod } from './errors';

/**
 * Parses a part of a request (params, query, body) with `schema`; anything it refuses is a 400
 * VALIDATION_FAILED naming each bad field, under `prefix` (e.g. `['query']`) when given.
 */
export function parseOr400<S extends z.ZodType>(
  schema: S,
  value: unknown,
  prefix: ReadonlyArray<PropertyKey> = [],
): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw Errors.validation(fieldErrorsFromZod(result.error.issues, prefix));
}

/** An `asOf` parameter: an instant not after `now`, the service's clock (400 naming `asOf` otherwise). */
export function pastInstant(asOf: string, now: Date): Date {
  const at = new Date(asOf);
  if (at.getTime() > now.getTime()) {
    throw Errors.validation([
      { field: 'asOf', message: `must not be in the future (now ${now.toISOString()})` },
    ]);
  }
  return at;
}
