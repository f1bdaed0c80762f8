import { DEFAULT_RULE_SET } from '@taobi/rules';
import fc from 'fast-check';
import { ingestEventId } from './canonical';
import { ingestSchemas, MAX_BATCH_EVENTS } from './request-schema';
import type { IngestSourceDefinition } from './source-definition';
import {
  COMPLETED,
  catalogueOf,
  REFUNDED,
  rideDefinition,
  shopDefinition,
  storeDefinition,
} from './test-definitions';
import { occurredAtRange } from './time-window';
import { type ValidationResult, validateIngestBody } from './validate';

const NOW = new Date('2026-11-25T00:00:00Z');
const FIVE_MINUTES = 5 * 60_000;

function validate(body: unknown, definition: IngestSourceDefinition = shopDefinition): ValidationResult {
  return validateIngestBody(body, {
    definition,
    schemas: ingestSchemas(definition, catalogueOf(definition)),
    range: occurredAtRange(NOW, FIVE_MINUTES, DEFAULT_RULE_SET),
    maxFutureMs: FIVE_MINUTES,
    eventIdOf: (event) => ingestEventId(definition, event),
  });
}

function rejection(result: ValidationResult) {
  if (result.ok) throw new Error('expected a rejection');
  return { status: result.error.statusCode, code: result.error.code, fields: result.error.fields ?? [] };
}

const fieldsOf = (result: ValidationResult) => rejection(result).fields.map((f) => f.field);

describe('validateIngestBody: accepted bodies', () => {
  it('when one completed order or one refund is posted, then it is accepted as a single event', () => {
    for (const body of [COMPLETED, REFUNDED]) {
      const result = validate(body);
      expect(result).toMatchObject({ ok: true, batch: false });
    }
  });

  it('when a batch of 500 is posted, then all 500 are accepted in order', () => {
    const events = Array.from({ length: MAX_BATCH_EVENTS }, (_, i) => ({ ...COMPLETED, orderId: `o-${i}` }));
    const result = validate({ events });
    expect(result.ok && result.events.map((e) => e.orderId)).toEqual(events.map((e) => e.orderId));
  });

  it('when occurredAt is 4 minutes ahead, or in the oldest month that still counts, then it is accepted', () => {
    expect(validate({ ...COMPLETED, occurredAt: '2026-11-25T00:04:00Z' }).ok).toBe(true);
    // Window of the last evaluation (2026-11-08): 2025-12 .. 2026-11, Asia/Shanghai.
    expect(validate({ ...COMPLETED, occurredAt: '2025-12-01T00:00:00+08:00' }).ok).toBe(true);
  });

  it('when a source has a single channel and category, then they may be left out', () => {
    const { channel: _c, category: _k, ...ride } = { ...COMPLETED };
    const result = validate(ride, rideDefinition);
    expect(result.ok && result.events[0]).toMatchObject({ channel: 'ride-hailing', category: 'ride' });
  });
});

describe('validateIngestBody: 400 naming each bad field', () => {
  it.each([
    ['an array', [COMPLETED]],
    ['a string', 'order'],
    ['null', null],
  ])('when the body is %s, then 400 on the body itself', (_what, body) => {
    expect(rejection(validate(body))).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(fieldsOf(validate(body))).toEqual(['']);
  });

  it.each(['orderId', 'memberId', 'amount', 'currency', 'channel', 'category', 'occurredAt'])(
    'when %s is missing, then 400 says it is required',
    (field) => {
      const { [field as keyof typeof COMPLETED]: _gone, ...body } = COMPLETED;
      expect(rejection(validate(body)).fields).toEqual([{ field, message: 'is required' }]);
    },
  );

  it.each([
    ['amount', '12800'],
    ['amount', 0],
    ['amount', -100],
    ['amount', 12.5],
    ['amount', 1_000_000_001],
    ['currency', 'USD'],
    ['memberId', 10001],
    ['memberId', 'has space'],
    ['orderId', 'x'.repeat(65)],
    ['occurredAt', 'yesterday'],
    ['occurredAt', '2026-11-20 10:00:00'],
    ['channel', 'eleme'],
    ['category', 'meal'],
    ['merchantId', ''],
    ['type', 'order.cancelled'],
  ])('when %s is %p, then 400 names it', (field, value) => {
    const result = validate({ ...COMPLETED, [field]: value });
    expect(rejection(result)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(fieldsOf(result)).toEqual([field]);
  });

  it('when fields are unknown (a typo), then each is named and nothing is dropped silently', () => {
    const result = validate({ ...COMPLETED, merchantID: 'shop-1', note: 'x' });
    expect(rejection(result).fields).toEqual([
      { field: 'merchantID', message: 'unknown field' },
      { field: 'note', message: 'unknown field' },
    ]);
  });

  it('when a refund has no refundId, then 400 names refundId; a completed order may not carry one', () => {
    const { refundId: _r, ...noRefundId } = REFUNDED;
    expect(rejection(validate(noRefundId)).fields).toEqual([{ field: 'refundId', message: 'is required' }]);
    expect(fieldsOf(validate({ ...COMPLETED, refundId: 'rf-9' }))).toEqual(['refundId']);
  });

  it('when one event of a batch is bad, then the whole batch is rejected naming only that event', () => {
    const events = [
      COMPLETED,
      { ...COMPLETED, orderId: 'o-2', amount: -1 },
      { ...COMPLETED, orderId: 'o-3' },
    ];
    expect(fieldsOf(validate({ events }))).toEqual(['events.1.amount']);
  });

  it('when a batch is empty, not an array, or carries other keys, then 400', () => {
    expect(fieldsOf(validate({ events: [] }))).toEqual(['events']);
    expect(fieldsOf(validate({ events: 'all' }))).toEqual(['events']);
    expect(fieldsOf(validate({ events: [COMPLETED], source: 'food' }))).toEqual(['source']);
  });

  it('when a batch holds the same order twice, then 400 names the repeat', () => {
    const result = validate({ events: [COMPLETED, { ...REFUNDED }, { ...COMPLETED, amount: 1 }] });
    expect(rejection(result).fields).toEqual([
      { field: 'events.2.orderId', message: 'repeats events.0 (the same order twice in one batch)' },
    ]);
  });

  it('when shape and time problems are mixed, then 400 lists both', () => {
    const events = [
      { ...COMPLETED, amount: 0 },
      { ...COMPLETED, orderId: 'o-2', occurredAt: '2030-01-01T00:00:00Z' },
    ];
    expect(rejection(validate({ events })).status).toBe(400);
    expect(fieldsOf(validate({ events }))).toEqual(['events.0.amount', 'events.1.occurredAt']);
  });

  it("when a source's own fields disagree with common ones, then 400 names the source's field", () => {
    const body = {
      ...COMPLETED,
      channel: 'eleme',
      category: 'meal',
      storeId: 'store-1',
      merchantId: 'shop-2',
    };
    expect(fieldsOf(validate(body, storeDefinition))).toEqual(['storeId']);
    expect(validate({ ...body, merchantId: undefined }, storeDefinition).ok).toBe(true);
  });
});

describe('validateIngestBody: 413 and 422', () => {
  it('when a batch has 501 events, then 413 BATCH_TOO_LARGE before any event is looked at', () => {
    const events = Array.from({ length: MAX_BATCH_EVENTS + 1 }, () => ({ nonsense: true }));
    expect(rejection(validate({ events }))).toMatchObject({
      status: 413,
      code: 'BATCH_TOO_LARGE',
      fields: [{ field: 'events' }],
    });
  });

  it('when occurredAt is more than 5 minutes ahead, then 422 names it', () => {
    const result = validate({ ...COMPLETED, occurredAt: '2026-11-25T00:05:01Z' });
    expect(rejection(result)).toMatchObject({ status: 422, code: 'OCCURRED_AT_OUT_OF_RANGE' });
    expect(fieldsOf(result)).toEqual(['occurredAt']);
  });

  it('when occurredAt is before the scoring window, then 422 names it', () => {
    const result = validate({
      events: [COMPLETED, { ...REFUNDED, occurredAt: '2025-11-30T23:59:59+08:00' }],
    });
    expect(rejection(result)).toMatchObject({ status: 422, code: 'OCCURRED_AT_OUT_OF_RANGE' });
    expect(rejection(result).fields).toEqual([
      {
        field: 'events.1.occurredAt',
        message: 'is before the scoring window, which starts at 2025-11-30T16:00:00.000Z',
      },
    ]);
  });
});

/** What an ingest body's field may be given: good values, the edge of each rule, other types. */
const fieldValue = fc.oneof(
  fc.constantFrom<unknown>(
    // Ids: the pattern's edges.
    'a:b.c_d-e',
    'x'.repeat(64),
    'x'.repeat(65),
    '😀'.repeat(33),
    '',
    // Enums and literals, of this source and of others.
    'order.completed',
    'order.refunded',
    'tmall',
    'eleme',
    'ride-hailing',
    'physical',
    'meal',
    'ride',
    'CNY',
    'cny',
    // Amounts.
    1,
    0,
    -0,
    12.5,
    1_000_000_000,
    1_000_000_001,
    2 ** 53,
    '12800',
    // Instants.
    '2026-11-20T10:00:00Z',
    '2026-11-20T10:00:00.123456+08:00',
    '2026-11-20T10:00:00',
    '2026-02-29T10:00:00Z',
    '0000-06-01T00:00:00Z',
    '9999-12-31T23:59:59-01:00',
    // Other types.
    undefined,
    null,
    true,
    [],
    {},
  ),
  fc.string({ maxLength: 70 }),
  fc.integer(),
  fc.double(),
);

const FIELDS = [...Object.keys(COMPLETED), 'refundId', 'storeId', 'extra', '__proto__'];

/** A good event of either kind with a few fields replaced, removed or added, as JSON would give it. */
const body = fc
  .tuple(
    fc.constantFrom<Record<string, unknown>>(
      COMPLETED,
      REFUNDED,
      { ...COMPLETED, channel: 'eleme', category: 'meal', merchantId: undefined, storeId: 'store-1' },
      { ...COMPLETED, channel: undefined, category: undefined },
    ),
    fc.array(fc.tuple(fc.constantFrom(...FIELDS), fieldValue), { maxLength: 3 }),
  )
  .map(([base, changes]) => {
    const value: Record<string, unknown> = { ...base };
    for (const [field, replacement] of changes)
      Object.defineProperty(value, field, {
        value: replacement,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return JSON.parse(JSON.stringify(value)) as unknown;
  });

describe('ingestSchemas: parseEvent', () => {
  it.each([
    ['e-commerce', shopDefinition],
    ['rides (defaults)', rideDefinition],
    ['food (a field of its own)', storeDefinition],
  ])('when given any body (%s), then it gives what zod gives', (_name, definition) => {
    const schemas = ingestSchemas(definition, catalogueOf(definition));
    fc.assert(
      fc.property(fc.oneof(body, fc.anything()), (value) => {
        const ours = schemas.parseEvent(value);
        const zods = schemas.event.safeParse(value);
        expect(ours.success).toBe(zods.success);
        if (ours.success) expect(ours.data).toStrictEqual(zods.data);
        else expect(ours.error?.issues).toEqual(zods.error?.issues);
      }),
      { numRuns: 5000 },
    );
  });

  it('when a ride leaves out its channel and category, then their defaults are filled in', () => {
    const schemas = ingestSchemas(rideDefinition, catalogueOf(rideDefinition));
    const { channel: _c, category: _k, ...ride } = COMPLETED;
    expect(schemas.parseEvent(ride)).toEqual({
      success: true,
      data: { ...ride, channel: 'ride-hailing', category: 'ride' },
    });
  });
});
