import { consumptionEventId, consumptionEventSchema } from '@taobi/contracts';
import { type IngestBed, ingestOrder, ingestRefund, startIngestBed, uniqueId } from '@taobi/tests';
import { buildService } from '../src/app';
import { configSchema } from '../src/config';

describe('ingest-ecommerce against the real broker', () => {
  let bed: IngestBed;

  beforeAll(async () => {
    bed = await startIngestBed({ schema: configSchema, build: buildService, key: 'dev-ecommerce-key' });
  });

  afterAll(async () => {
    await bed.close();
  });

  it('when an order and its refund are posted, then both arrive canonical, keyed by memberId, with source and channel', async () => {
    const order = ingestOrder({ channel: 'tmall', category: 'physical', merchantId: 'shop-77' });
    const refund = ingestRefund(order, { amount: 5000 });

    const placed = await bed.post(order);
    const refunded = await bed.post(refund);

    expect(placed.statusCode).toBe(202);
    expect(placed.json()).toEqual({
      accepted: [{ eventId: consumptionEventId('ecommerce', 'completed', order.orderId as string) }],
    });
    expect(refunded.statusCode).toBe(202);
    const records = await bed.reader.waitForCount(2, (r) => r.value.memberId === order.memberId);
    for (const record of records) {
      expect(record.key).toBe(order.memberId);
      expect(consumptionEventSchema.safeParse(record.value).success).toBe(true);
    }
    expect(records.map((r) => r.value)).toEqual([
      {
        eventId: placed.json().accepted[0].eventId,
        schemaVersion: 1,
        kind: 'completed',
        source: 'ecommerce',
        channel: 'tmall',
        category: 'physical',
        memberId: order.memberId,
        orderId: order.orderId,
        amount: 12800,
        currency: 'CNY',
        merchantId: 'shop-77',
        occurredAt: order.occurredAt,
        receivedAt: expect.any(String),
      },
      expect.objectContaining({
        eventId: consumptionEventId('ecommerce', 'refunded', refund.refundId as string),
        kind: 'refunded',
        source: 'ecommerce',
        orderId: order.orderId,
        refundId: refund.refundId,
        amount: 5000,
      }),
    ]);
  });

  it('when a batch is posted, then 202 lists the ids in request order and every event arrives once', async () => {
    const memberId = uniqueId('m');
    const events = ['taobao', 'tmall', 'flash-sale'].flatMap((channel) =>
      ['physical', 'virtual'].map((category) => ingestOrder({ memberId, channel, category })),
    );

    const response = await bed.post({ events });

    expect(response.statusCode).toBe(202);
    const ids = response.json().accepted.map((a: { eventId: string }) => a.eventId);
    expect(ids).toEqual(events.map((e) => consumptionEventId('ecommerce', 'completed', e.orderId as string)));
    const records = await bed.reader.waitForCount(6, (r) => r.value.memberId === memberId);
    expect(records.map((r) => r.value.eventId)).toEqual(ids);
    expect(records.map((r) => `${r.value.channel}/${r.value.category}`)).toEqual(
      events.map((e) => `${e.channel}/${e.category}`),
    );
  });

  it('when the same order is posted again (a retry), then the answer carries the same eventId', async () => {
    const order = ingestOrder({ channel: 'taobao', category: 'virtual' });

    const first = await bed.post(order);
    const retry = await bed.post(order);

    expect([first.statusCode, retry.statusCode]).toEqual([202, 202]);
    expect(retry.json()).toEqual(first.json());
    // Both were accepted, so both are on the topic: one id, which consumers dedupe on.
    const records = await bed.reader.waitForCount(2, (r) => r.value.orderId === order.orderId);
    expect(new Set(records.map((r) => r.value.eventId))).toEqual(new Set([first.json().accepted[0].eventId]));
  });

  it('when /openapi.json is asked, then it describes POST /v1/events with the e-commerce channels', async () => {
    const response = await bed.service.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const document = response.json();
    expect(document.openapi).toBe('3.1.0');
    expect(document.paths['/v1/events'].post).toBeDefined();
    expect(document.components.schemas.OrderCompleted.properties.channel.enum).toEqual([
      'taobao',
      'tmall',
      'flash-sale',
    ]);
  });
});
