import { DEFAULT_RULE_SET } from '@taobi/rules';
import {
  COMPLETED,
  catalogueOf,
  REFUNDED,
  rideDefinition,
  shopDefinition,
  storeDefinition,
} from '../test/definitions';
import { ingestEventId } from './canonical';
import { ingestSchemas, MAX_BATCH_EVENTS } from './request-schema';
import type { IngestSourceDefinition } from './source-definition';
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
