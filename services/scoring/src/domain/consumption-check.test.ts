import { type ConsumptionEvent, consumptionEventId } from '@taobi/contracts';
import { distinctEvents, rejectionReason } from './consumption-check';

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

describe('checks beyond the schema', () => {
  it('when the eventId is the deterministic one and the date is not ahead, then the event is accepted', () => {
    expect(rejectionReason(order, now, 60_000)).toBeUndefined();
    const refund: ConsumptionEvent = {
      ...order,
      kind: 'refunded',
      refundId: 'r-1',
      eventId: consumptionEventId('food', 'refunded', 'r-1'),
    };
    expect(rejectionReason(refund, now, 60_000)).toBeUndefined();
  });

  it('when the eventId is of another kind or id, then the event is refused', () => {
    expect(
      rejectionReason({ ...order, eventId: consumptionEventId('food', 'refunded', 'o-1') }, now, 0),
    ).toMatch(/^eventId is not/);
    expect(rejectionReason({ ...order, orderId: 'o-2' }, now, 0)).toMatch(/^eventId is not/);
  });

  it('when occurredAt is further ahead than the skew allows, then the event is refused', () => {
    expect(rejectionReason({ ...order, occurredAt: '2026-11-23T12:01:01Z' }, now, 60_000)).toBe(
      'occurredAt is in the future',
    );
    expect(rejectionReason({ ...order, occurredAt: '2026-11-23T12:00:59Z' }, now, 60_000)).toBeUndefined();
  });

  it('when a batch repeats an eventId, then the first one is kept', () => {
    const again = { ...order, receivedAt: '2026-11-23T11:05:00.000Z' };
    expect(distinctEvents([order, again])).toEqual([order]);
  });
});
