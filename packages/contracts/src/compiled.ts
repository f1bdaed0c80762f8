import Ajv from 'ajv';
import { z } from 'zod';
import { inInstantRange } from './common';
import { type ConsumptionEvent, consumptionEventSchema } from './consumption';
import { type ScoreChanged, scoreChangedSchema } from './score-changed';

/**
 * A check compiled (ajv) from a schema's JSON Schema, accepting exactly what the zod schema
 * accepts, for a hot path (a producer's record, an ingest request's event): zod takes several
 * times longer to say yes. What JSON Schema cannot say is said here as zod says it: lengths count
 * code points and patterns are JavaScript RegExps without the `u` flag (as zod runs them), and the
 * `date-time` format is `isoTimeSchema`'s range (its pattern is in the schema). Other refinements
 * (`.refine`, `.superRefine`) are not in a JSON Schema and not checked here, and a transform cannot
 * be compiled (throws): a schema with either needs a check of its own after this one. It says yes
 * or no, and applies no default. A value it refuses is for zod to explain. compiled.test.ts and the
 * ingest kit's validate.test.ts check that the two agree on arbitrary values.
 */
export function compiledCheck<T>(schema: z.ZodType<T>): (value: unknown) => value is T {
  const ajv = new Ajv({ unicodeRegExp: false, strict: true, logger: false });
  ajv.addFormat('date-time', { type: 'string', validate: inInstantRange });
  const { $schema: _draft, ...json } = z.toJSONSchema(schema, { io: 'input', target: 'draft-7' });
  return ajv.compile<T>(json) as (value: unknown) => value is T;
}

/** Whether `value` is a consumption event as `consumptionEventSchema` says (without copying it). */
export const isConsumptionEvent: (value: unknown) => value is ConsumptionEvent =
  compiledCheck(consumptionEventSchema);

/**
 * Whether `value` is a score-changed record as `scoreChangedSchema` says: scoring checks each one
 * it writes (one per changed member) before enqueueing it.
 */
export const isScoreChanged: (value: unknown) => value is ScoreChanged = compiledCheck(scoreChangedSchema);
