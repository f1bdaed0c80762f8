import Ajv from 'ajv';
import { z } from 'zod';
import { inInstantRange } from './common';
import { type ConsumptionEvent, consumptionEventSchema } from './consumption';

/**
 * A check compiled (ajv) from a record schema's JSON Schema, accepting exactly what the zod schema
 * accepts, for a producer's hot path: zod takes several times longer to say yes. What JSON Schema
 * cannot say is said here as zod says it: lengths count UTF-16 units and patterns are JavaScript
 * RegExps without the `u` flag (as zod runs them), and the `date-time` format is `isoTimeSchema`'s
 * range (its pattern is in the schema). compiled.test.ts checks the two agree on arbitrary values.
 * A value it refuses is for zod to explain.
 */
function compile<T>(schema: z.ZodType<T>): (value: unknown) => value is T {
  const ajv = new Ajv({ unicodeRegExp: false, strict: true, logger: false });
  ajv.addFormat('date-time', { type: 'string', validate: inInstantRange });
  const { $schema: _draft, ...json } = z.toJSONSchema(schema, { io: 'input', target: 'draft-7' });
  return ajv.compile<T>(json) as (value: unknown) => value is T;
}

/** Whether `value` is a consumption event as `consumptionEventSchema` says (without copying it). */
export const isConsumptionEvent: (value: unknown) => value is ConsumptionEvent =
  compile(consumptionEventSchema);
