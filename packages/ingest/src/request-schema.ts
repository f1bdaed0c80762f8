import { compiledCheck, externalIdSchema, isoTimeSchema, MAX_AMOUNT_FEN } from '@taobi/contracts';
import { z } from 'zod';
import type { IngestEvent, IngestSourceDefinition, SourceCatalogue } from './source-definition';

/** A batch carries at most this many events (docs/design.md, "APIs"). */
export const MAX_BATCH_EVENTS = 500;

/** zod's error-map input: `input` is undefined when the field was left out. */
const required =
  (otherwise: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? 'is required' : otherwise;

/** For enums: "is required" when missing, zod's "expected one of ..." otherwise. */
const requiredOrDefault = (issue: { input?: unknown }): string | undefined =>
  issue.input === undefined ? 'is required' : undefined;

const amountSchema = z
  .number({ error: required('must be a number: an integer amount in fen') })
  .int('must be an integer number of fen')
  .positive('must be positive')
  .max(MAX_AMOUNT_FEN, `must be at most ${MAX_AMOUNT_FEN} fen (10,000,000 CNY)`)
  .describe('Integer minor units (fen): 12800 is 128.00 CNY. At most 10,000,000 CNY.');

const currencySchema = z.literal('CNY', { error: required('only CNY is accepted') }).describe('Always CNY.');

const idField = (description: string) => externalIdSchema.describe(description);

export interface IngestSchemas {
  completed: z.ZodObject;
  refunded: z.ZodObject;
  /** One event: an order completed or refunded, told apart by `type`. */
  event: z.ZodType;
  /** `{ "events": [ ... ] }` with 1 to 500 events. */
  batch: z.ZodType;
  accepted: z.ZodType;
  /**
   * `event.safeParse`, with the same result, in a fraction of its time when the event is good: a
   * compiled check (`compiledCheck`) says yes and the defaults zod would fill in are added; zod
   * parses only what the check refuses, to name the fields.
   */
  parseEvent(value: unknown): z.ZodSafeParseResult<IngestEvent>;
}

/**
 * What zod puts in place of each field a good event of this shape leaves out: the fields whose
 * schema turns `undefined` into a value (a `.default()`).
 */
function defaultsOf(shape: z.ZodObject): [string, unknown][] {
  return Object.entries(shape.shape).flatMap(([field, schema]) => {
    const parsed = (schema as z.ZodType).safeParse(undefined);
    return parsed.success && parsed.data !== undefined ? [[field, parsed.data] as [string, unknown]] : [];
  });
}

/** `parseEvent` for `event`, the union of `completed` and `refunded` told apart by `type`. */
function eventParser(event: z.ZodType, completed: z.ZodObject, refunded: z.ZodObject) {
  const isEvent = compiledCheck(event);
  const defaults = new Map([
    ['order.completed', defaultsOf(completed)],
    ['order.refunded', defaultsOf(refunded)],
  ]);
  return (value: unknown): z.ZodSafeParseResult<IngestEvent> => {
    if (!isEvent(value)) return event.safeParse(value) as z.ZodSafeParseResult<IngestEvent>;
    let data = value as IngestEvent;
    for (const [field, fallback] of defaults.get(data.type) ?? []) {
      if (data[field] === undefined) data = { ...data, [field]: fallback };
    }
    return { success: true, data };
  };
}

/**
 * The request schemas of one source's ingest API, its channels and categories from `catalogue`
 * (the rule set's data for the source, `sourceCatalogue`). Objects are strict: an unknown field is a 400
 * naming it, so a misspelt optional field (say `merchantID`) never silently drops data.
 * Refinements that JSON Schema cannot express (time window, duplicates) live in `validate.ts`.
 */
export function ingestSchemas(definition: IngestSourceDefinition, catalogue: SourceCatalogue): IngestSchemas {
  const channel = z
    .enum(catalogue.channels as [string, ...string[]], { error: requiredOrDefault })
    .describe(`The ${definition.source} platform the order was placed on.`);
  const category = z
    .enum(catalogue.categories as [string, ...string[]], { error: requiredOrDefault })
    .describe(`What was bought, among the ${definition.source} categories.`);
  const defaults = definition.defaults ?? {};

  const common = {
    orderId: idField('The platform order id: 1 to 64 of A-Z a-z 0-9 _ . : -'),
    memberId: idField('The Taobao member: 1 to 64 of A-Z a-z 0-9 _ . : -'),
    amount: amountSchema,
    currency: currencySchema,
    merchantId: idField('The shop, store or merchant, when there is one.').optional(),
    occurredAt: isoTimeSchema.describe(
      'When the order completed or the refund was made: ISO-8601 with an offset, e.g. 2026-11-20T10:00:00+08:00. Not more than 5 minutes ahead of the service clock, not before the 12-month scoring window.',
    ),
    ...(definition.extraFields ?? {}),
  };

  const completed = z
    .strictObject({
      type: z.literal('order.completed'),
      ...common,
      channel: defaults.channel ? channel.default(defaults.channel) : channel,
      category: defaults.category ? category.default(defaults.category) : category,
    })
    .describe('An order that completed: it counts towards the member’s Taobi Score.');

  const refunded = z
    .strictObject({
      type: z.literal('order.refunded'),
      ...common,
      refundId: idField('The refund id (unique per refund): 1 to 64 of A-Z a-z 0-9 _ . : -'),
      channel: channel.optional(),
      category: category.optional(),
    })
    .describe('A refund of (part of) an order; `orderId` names the order, `amount` is what was refunded.');

  const event = z.discriminatedUnion('type', [completed, refunded]);
  const batch = z
    .strictObject({ events: z.array(event).min(1).max(MAX_BATCH_EVENTS) })
    .describe(`A batch of 1 to ${MAX_BATCH_EVENTS} events, accepted or rejected as a whole.`);
  const accepted = z
    .object({
      accepted: z.array(z.object({ eventId: z.string() })),
    })
    .describe('The canonical event ids, in request order; the same order or refund always gets the same id.');
  return { completed, refunded, event, batch, accepted, parseEvent: eventParser(event, completed, refunded) };
}
