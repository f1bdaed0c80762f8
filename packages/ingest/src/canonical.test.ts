import { consumptionEventId, consumptionEventSchema } from '@taobi/contracts';
import fc from 'fast-check';
import { ingestEventId, toCanonicalEvent } from './canonical';
import type { IngestEvent } from './source-definition';
import { COMPLETED, REFUNDED, rideDefinition, shopDefinition, storeDefinition } from './test-definitions';

const RECEIVED = new Date('2026-11-25T00:00:00.123Z');

describe('toCanonicalEvent', () => {
  it('when a completed order is mapped, then it is canonical, keyed by its order id, with instants in UTC', () => {
    const event = toCanonicalEvent(shopDefinition, COMPLETED as IngestEvent, RECEIVED);
    expect(event).toEqual({
      eventId: consumptionEventId('ecommerce', 'completed', 'tb-1'),
      schemaVersion: 1,
      kind: 'completed',
      source: 'ecommerce',
      channel: 'tmall',
      category: 'physical',
      memberId: 'm-1',
      orderId: 'tb-1',
      amount: 12800,
      currency: 'CNY',
      merchantId: 'shop-77',
      occurredAt: '2026-11-20T02:00:00.000Z',
      receivedAt: '2026-11-25T00:00:00.123Z',
    });
    expect(consumptionEventSchema.safeParse(event).success).toBe(true);
  });

  it('when a refund is mapped, then its id comes from the refundId and it keeps the orderId', () => {
    const event = toCanonicalEvent(rideDefinition, REFUNDED as IngestEvent, RECEIVED);
    expect(event).toMatchObject({
      eventId: consumptionEventId('mobility', 'refunded', 'rf-1'),
      kind: 'refunded',
      source: 'mobility',
      orderId: 'tb-1',
      refundId: 'rf-1',
    });
    expect(event).not.toHaveProperty('channel');
  });

  it('when occurredAt is any valid instant, in UTC or with an offset, then the record has it as toISOString writes it', () => {
    const written = fc.tuple(
      fc.date({
        min: new Date('0001-01-02T00:00:00Z'),
        max: new Date('9999-12-30T00:00:00Z'),
        noInvalidDate: true,
      }),
      fc.constantFrom('utc', 'seconds', 'micros', 'offset'),
    );
    fc.assert(
      fc.property(written, ([at, form]) => {
        const iso = at.toISOString();
        const occurredAt = {
          utc: iso,
          seconds: `${iso.slice(0, 19)}Z`,
          micros: `${iso.slice(0, 23)}456Z`,
          offset: `${new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 23)}+08:00`,
        }[form];
        const record = toCanonicalEvent(
          shopDefinition,
          { ...COMPLETED, occurredAt } as IngestEvent,
          RECEIVED,
        );
        expect(record.occurredAt).toBe(new Date(occurredAt).toISOString());
      }),
    );
  });

  it('when a source has its own field, then it is mapped and not carried as such', () => {
    const food = {
      ...COMPLETED,
      channel: 'eleme',
      category: 'meal',
      merchantId: undefined,
      storeId: 'store-9',
    };
    const event = toCanonicalEvent(storeDefinition, food as IngestEvent, RECEIVED);
    expect(event.merchantId).toBe('store-9');
    expect(event).not.toHaveProperty('storeId');
  });

  it('when an event is mapped, then its record is the one zod parses, field order included (the bytes on the topic)', () => {
    for (const [definition, event] of [
      [shopDefinition, COMPLETED],
      [rideDefinition, REFUNDED],
      [storeDefinition, { ...COMPLETED, channel: 'eleme', category: 'meal', storeId: 'store-9' }],
    ] as const) {
      const record = toCanonicalEvent(definition, event as IngestEvent, RECEIVED);
      expect(JSON.stringify(record)).toBe(JSON.stringify(consumptionEventSchema.parse(record)));
    }
  });

  it('when a source maps its own field to a bad merchantId, then the contract refuses the record, naming it', () => {
    const bad = { ...storeDefinition, mapExtraFields: () => ({ merchantId: 'not an id' }) };
    expect(() => toCanonicalEvent(bad, COMPLETED as IngestEvent, RECEIVED)).toThrow(/merchantId/);
  });

  it('when the same order is seen with any other content, then the event id is the same (retries are safe)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000_000 }),
        fc.date({
          min: new Date('2020-01-01T00:00:00Z'),
          max: new Date('2040-01-01T00:00:00Z'),
          noInvalidDate: true,
        }),
        (amount, at) => {
          const again = { ...COMPLETED, amount } as IngestEvent;
          return (
            ingestEventId(shopDefinition, again) ===
              ingestEventId(shopDefinition, COMPLETED as IngestEvent) &&
            toCanonicalEvent(shopDefinition, again, at).eventId ===
              consumptionEventId('ecommerce', 'completed', 'tb-1')
          );
        },
      ),
    );
  });
});
