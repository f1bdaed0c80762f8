import fc from 'fast-check';
import { isConsumptionEvent, isScoreChanged } from './compiled';
import { consumptionEventId } from './consumption';
import { consumptionEventSchema, scoreChangedSchema } from './index';

const completed = {
  eventId: consumptionEventId('ecommerce', 'completed', 'tb-1'),
  schemaVersion: 1,
  memberId: 'm-10001',
  occurredAt: '2026-11-20T10:00:00+08:00',
  source: 'ecommerce',
  orderId: 'tb-1',
  amount: 12800,
  currency: 'CNY',
  merchantId: 'shop-7',
  receivedAt: '2026-11-20T02:00:01.250Z',
  kind: 'completed',
  channel: 'tmall',
  category: 'physical',
};
const refunded = {
  ...completed,
  kind: 'refunded',
  refundId: 'rf-1',
  channel: undefined,
  category: undefined,
};

/** Values a field may be given: good ones, edge cases of each rule, and other types. */
const fieldValue = fc.oneof(
  fc.constantFrom<unknown>(
    undefined,
    null,
    '',
    'x'.repeat(64),
    'x'.repeat(65),
    'x'.repeat(128),
    'x'.repeat(129),
    'é',
    '😀'.repeat(40),
    '😀'.repeat(64),
    '😀'.repeat(65),
    '😀'.repeat(128),
    '😀'.repeat(129),
    'é'.repeat(129),
    'a--b',
    'Tmall',
    'tmall',
    'physical',
    'completed',
    'refunded',
    'CNY',
    'cny',
    1,
    '1',
    0,
    -0,
    -1,
    1.5,
    1_000_000_000,
    1_000_000_001,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    2 ** 53,
    true,
    [],
    {},
    '2026-11-20T10:00:00Z',
    '2026-11-20T10:00:00z',
    '2026-11-20T10:00:00',
    '2026-11-20 10:00:00Z',
    '2026-02-29T10:00:00Z',
    '2028-02-29T10:00:00.123456+08:00',
    '0000-06-01T00:00:00Z',
    '0001-01-01T00:00:00Z',
    '0001-01-01T00:00:00+01:00',
    '9999-12-31T23:59:59Z',
    '9999-12-31T23:59:59-01:00',
    '2026-11-20T24:00:00Z',
    '2026-11-20T10:00:00+24:00',
  ),
  fc.string({ maxLength: 70 }),
  fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', '_', '.', ':', ' ', '/', '\n'), maxLength: 70 }),
  fc.integer(),
  fc.double(),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);

const FIELDS = [...Object.keys(completed), 'refundId', 'extra'];

/** A good record of either kind with a few fields replaced, removed or added. */
const record = fc
  .tuple(
    fc.constantFrom(completed, refunded),
    fc.array(fc.tuple(fc.constantFrom(...FIELDS), fieldValue), { maxLength: 3 }),
    fc.boolean(),
  )
  .map(([base, changes, drop]) => {
    const value: Record<string, unknown> = { ...base };
    for (const [field, replacement] of changes) {
      if (drop && replacement === undefined) delete value[field];
      else value[field] = replacement;
    }
    for (const [field, v] of Object.entries(value)) if (v === undefined && drop) delete value[field];
    return value;
  });

describe('isConsumptionEvent', () => {
  it('when given any value, then it accepts exactly what consumptionEventSchema accepts', () => {
    fc.assert(
      fc.property(fc.oneof(record, fc.anything()), (value) => {
        expect(isConsumptionEvent(value)).toBe(consumptionEventSchema.safeParse(value).success);
      }),
      { numRuns: 5000 },
    );
  });

  it('when given the good records and some bad ones, then it says what zod says', () => {
    expect(isConsumptionEvent(completed)).toBe(true);
    expect(isConsumptionEvent({ ...refunded, channel: 'tmall' })).toBe(true);
    expect(isConsumptionEvent({ ...completed, occurredAt: '0000-06-01T00:00:00Z' })).toBe(false);
    expect(isConsumptionEvent({ ...completed, eventId: '😀'.repeat(64) })).toBe(true);
    // zod 4 and the compiled check count code points: 128 emoji (256 UTF-16 units) fit an eventId.
    expect(isConsumptionEvent({ ...completed, eventId: '😀'.repeat(128) })).toBe(true);
    expect(isConsumptionEvent({ ...completed, eventId: '😀'.repeat(129) })).toBe(false);
    expect(isConsumptionEvent({ ...completed, amount: 1.5 })).toBe(false);
    expect(isConsumptionEvent({ ...completed, kind: 'refunded' })).toBe(false);
  });
});

const scoreChanged = {
  eventId: 'score:m-10001:3',
  schemaVersion: 1,
  memberId: 'm-10001',
  occurredAt: '2026-11-20T02:00:01.250Z',
  version: 3,
  previousScore: 120,
  score: 140,
  breakdown: { base: 100, ecommerce: 30, food: 10, travel: 0, mobility: 0, grocery: 0 },
  reason: 'consumption',
  causeEventIds: [completed.eventId],
  refundEventIds: [],
  ruleVersion: 'r1',
  window: { from: '2025-12', to: '2026-11' },
  expiringAtNextEvaluation: { points: 5, evaluationAt: '2026-11-30T16:00:00.000Z' },
  pointsByMonth: [{ month: '2026-11', points: 40 }],
};
const SCORE_FIELDS = [...Object.keys(scoreChanged), 'extra'];

/** A good score-changed record with a few fields (or a nested one) replaced, removed or added. */
const scoreChangedRecord = fc
  .tuple(
    fc.array(fc.tuple(fc.constantFrom(...SCORE_FIELDS), fieldValue), { maxLength: 2 }),
    fc.array(
      fc.tuple(
        fc.constantFrom('breakdown', 'window', 'expiringAtNextEvaluation'),
        fc.constantFrom('base', 'ecommerce', 'other', 'from', 'to', 'points', 'evaluationAt'),
        fieldValue,
      ),
      { maxLength: 2 },
    ),
  )
  .map(([changes, nested]) => {
    const value: Record<string, unknown> = structuredClone(scoreChanged);
    for (const [field, replacement] of changes) value[field] = replacement;
    for (const [field, key, replacement] of nested) {
      const inner = value[field];
      if (inner && typeof inner === 'object') (inner as Record<string, unknown>)[key] = replacement;
    }
    return value;
  });

describe('isScoreChanged', () => {
  it('when given any value, then it accepts exactly what scoreChangedSchema accepts', () => {
    expect(isScoreChanged(scoreChanged)).toBe(true);
    fc.assert(
      fc.property(fc.oneof(scoreChangedRecord, fc.anything()), (value) => {
        expect(isScoreChanged(value)).toBe(scoreChangedSchema.safeParse(value).success);
      }),
      { numRuns: 5000 },
    );
  });
});
