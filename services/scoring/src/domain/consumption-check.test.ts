import { type ConsumptionEvent, consumptionEventId } from '@taobi/contracts';
import { DEFAULT_RULE_SET, type RuleSet } from '@taobi/rules';
import { conflictingFields, rejectionReason, splitRepeats } from './consumption-check';

const now = new Date('2026-11-23T12:00:00Z');
const order: ConsumptionEvent = {
  eventId: consumptionEventId('food', 'completed', 'o-1'),
  schemaVersion: 1,
  kind: 'completed',
  source: 'food',
  channel: 'eleme',
  category: 'meal',
  memberId: 'm-1',
  orderId: 'o-1',
  amount: 3_500,
  currency: 'CNY',
  occurredAt: '2026-11-23T11:00:00.000Z',
  receivedAt: '2026-11-23T11:00:01.000Z',
};

const at = (clock: Date, maxFutureSkewMs: number, rules: RuleSet = DEFAULT_RULE_SET) => ({
  rules,
  now: clock,
  maxFutureSkewMs,
});

describe('checks beyond the schema', () => {
  it('when the eventId is the deterministic one and the date is not ahead, then the event is accepted', () => {
    expect(rejectionReason(order, at(now, 60_000))).toBeUndefined();
    const refund: ConsumptionEvent = {
      ...order,
      kind: 'refunded',
      refundId: 'r-1',
      eventId: consumptionEventId('food', 'refunded', 'r-1'),
    };
    expect(rejectionReason(refund, at(now, 60_000))).toBeUndefined();
  });

  it('when the eventId is of another kind or id, then the event is refused', () => {
    expect(
      rejectionReason({ ...order, eventId: consumptionEventId('food', 'refunded', 'o-1') }, at(now, 0)),
    ).toMatch(/^eventId is not/);
    expect(rejectionReason({ ...order, orderId: 'o-2' }, at(now, 0))).toMatch(/^eventId is not/);
  });

  it('when occurredAt is further ahead than the skew allows, then the event is refused', () => {
    expect(rejectionReason({ ...order, occurredAt: '2026-11-23T12:01:01Z' }, at(now, 60_000))).toBe(
      'occurredAt is in the future',
    );
    expect(
      rejectionReason({ ...order, occurredAt: '2026-11-23T12:00:59Z' }, at(now, 60_000)),
    ).toBeUndefined();
  });

  it('when the source is not in the rule set in force, or the channel or category not its own, then the event is refused saying which', () => {
    const cinema = {
      ...order,
      source: 'cinema',
      channel: 'maoyan',
      category: 'screening',
      eventId: consumptionEventId('cinema', 'completed', 'o-1'),
    };
    expect(rejectionReason(cinema, at(now, 0))).toBe(
      'source cinema is not in rule set 2026.1 (ecommerce, food, travel, mobility)',
    );
    expect(rejectionReason({ ...order, channel: 'tmall' }, at(now, 0))).toMatch(
      /^channel tmall is not a food channel/,
    );
    expect(rejectionReason({ ...order, category: 'ride' }, at(now, 0))).toMatch(
      /^category ride is not a food category/,
    );

    const withCinema = structuredClone(DEFAULT_RULE_SET);
    withCinema.score.sources.cinema = {
      channels: ['maoyan'],
      categories: { screening: { fenPerPoint: 2_000, orderCap: 15 } },
      monthlyCap: 30,
      frequency: { pointsPerOrder: 1, minNetAmount: 3_000, monthlyCap: 4 },
    };
    expect(rejectionReason(cinema, at(now, 0, withCinema))).toBeUndefined();
  });

  it('when a batch repeats an eventId, then the first one is kept and the copies are set apart', () => {
    const again = { ...order, receivedAt: '2026-11-23T11:05:00.000Z' };
    expect(splitRepeats([order, again])).toEqual({ distinct: [order], repeats: [again] });
  });
});

describe('conflicting duplicates', () => {
  it('when a copy differs only in receivedAt or in how occurredAt is written, then it is an exact duplicate', () => {
    expect(
      conflictingFields(order, {
        ...order,
        receivedAt: '2026-11-24T00:00:00.000Z',
        occurredAt: '2026-11-23T19:00:00+08:00',
      }),
    ).toEqual([]);
  });

  it('when a copy has another amount, member, date, channel, category or merchant, then each field is named', () => {
    const other = {
      ...order,
      amount: 9_900,
      memberId: 'm-2',
      occurredAt: '2026-10-01T00:00:00.000Z',
      category: 'grocery',
      merchantId: 'shop-9',
    } as ConsumptionEvent;
    expect(conflictingFields(order, other)).toEqual([
      { field: 'memberId', message: 'stored "m-1", received "m-2"' },
      { field: 'amount', message: 'stored 3500, received 9900' },
      {
        field: 'occurredAt',
        message: 'stored "2026-11-23T11:00:00.000Z", received "2026-10-01T00:00:00.000Z"',
      },
      { field: 'category', message: 'stored "meal", received "grocery"' },
      { field: 'merchantId', message: 'stored nothing, received "shop-9"' },
    ]);
  });

  it('when a refund names another order, then that conflicts; its channel does not matter', () => {
    const refund: ConsumptionEvent = {
      ...order,
      kind: 'refunded',
      refundId: 'r-1',
      eventId: consumptionEventId('food', 'refunded', 'r-1'),
    };
    expect(conflictingFields(refund, { ...refund, channel: 'flash-sale' })).toEqual([]);
    expect(conflictingFields(refund, { ...refund, orderId: 'o-2' }).map((e) => e.field)).toEqual(['orderId']);
  });
});
