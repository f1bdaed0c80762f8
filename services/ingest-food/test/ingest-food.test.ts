import { consumptionEventId, consumptionEventSchema } from '@taobi/contracts';
import { ingestSchemas, sourceCatalogue } from '@taobi/ingest';
import { DEFAULT_RULE_SET } from '@taobi/rules';
import { type IngestBed, ingestOrder, ingestRefund, startIngestBed, uniqueId } from '@taobi/tests';
import { buildService } from '../src/app';
import { configSchema } from '../src/config';
import { foodSource } from '../src/domain/source';

describe('ingest-food against the real broker', () => {
  let bed: IngestBed;

  beforeAll(async () => {
    bed = await startIngestBed({ schema: configSchema, build: buildService, key: 'dev-food-key' });
  });

  afterAll(async () => {
    await bed.close();
  });

  it('when an Ele.me order and refund are posted, then both arrive canonical with source food, keyed by memberId', async () => {
    const order = ingestOrder({ channel: 'eleme', category: 'meal', storeId: 'store-1024' });
    const refund = ingestRefund(order);

    const responses = [await bed.post(order), await bed.post(refund)];

    expect(responses.map((r) => r.statusCode)).toEqual([202, 202]);
    const records = await bed.reader.waitForCount(2, (r) => r.value.memberId === order.memberId);
    expect(records.map((r) => r.key)).toEqual([order.memberId, order.memberId]);
    for (const record of records) expect(consumptionEventSchema.safeParse(record.value).success).toBe(true);
    expect(records[0]?.value).toMatchObject({
      eventId: consumptionEventId('food', 'completed', order.orderId as string),
      kind: 'completed',
      source: 'food',
      channel: 'eleme',
      category: 'meal',
      merchantId: 'store-1024',
    });
    expect(records[0]?.value).not.toHaveProperty('storeId');
    expect(records[1]?.value).toMatchObject({ kind: 'refunded', source: 'food', refundId: refund.refundId });
  });

  it('when the same order is posted twice, then both answers carry the same eventId', async () => {
    const order = ingestOrder({ channel: 'flash-sale', category: 'grocery' });
    const [first, retry] = [await bed.post(order), await bed.post(order)];
    expect(retry.json()).toEqual(first.json());
    expect(first.json().accepted[0].eventId).toBe(
      consumptionEventId('food', 'completed', order.orderId as string),
    );
  });

  it('when an e-commerce channel, or storeId disagreeing with merchantId, is posted, then 400 and nothing is published', async () => {
    const memberId = uniqueId('m');
    const tmall = await bed.post(ingestOrder({ memberId, channel: 'tmall', category: 'meal' }));
    const both = await bed.post(
      ingestOrder({ memberId, channel: 'eleme', category: 'meal', storeId: 'store-1', merchantId: 'shop-2' }),
    );
    const marker = ingestOrder({ memberId, channel: 'eleme', category: 'grocery' });

    expect(tmall.json().error.fields).toEqual([
      { field: 'channel', message: expect.stringContaining('eleme') },
    ]);
    expect(both.json().error.fields).toEqual([{ field: 'storeId', message: expect.any(String) }]);
    expect((await bed.post(marker)).statusCode).toBe(202);
    const records = await bed.reader.waitForCount(1, (r) => r.value.memberId === memberId);
    expect(records.map((r) => r.value.orderId)).toEqual([marker.orderId]);
  });

  it("when the food platform's examples are validated, then they pass its schemas", () => {
    const { event } = ingestSchemas(foodSource, sourceCatalogue(foodSource, DEFAULT_RULE_SET));
    expect(event.safeParse(foodSource.examples.completed).success).toBe(true);
    expect(event.safeParse(foodSource.examples.refunded).success).toBe(true);
  });
});
