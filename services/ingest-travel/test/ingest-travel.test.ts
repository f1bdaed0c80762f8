import { consumptionEventId, consumptionEventSchema } from '@taobi/contracts';
import { ingestSchemas, sourceCatalogue } from '@taobi/ingest';
import { DEFAULT_RULE_SET } from '@taobi/rules';
import { type IngestBed, ingestOrder, ingestRefund, startIngestBed, uniqueId } from '@taobi/tests';
import { buildService } from '../src/app';
import { configSchema } from '../src/config';
import { travelSource } from '../src/domain/source';

describe('ingest-travel against the real broker', () => {
  let bed: IngestBed;

  beforeAll(async () => {
    bed = await startIngestBed({ schema: configSchema, build: buildService, key: 'dev-travel-key' });
  });

  afterAll(async () => {
    await bed.close();
  });

  it('when a batch of Fliggy trips and a refund is posted, then all arrive canonical with source travel and channel fliggy', async () => {
    const memberId = uniqueId('m');
    const trips = ['flight', 'hotel', 'train', 'ticket'].map((category) =>
      ingestOrder({ memberId, channel: 'fliggy', category, merchantId: `op-${category}` }),
    );
    const refund = ingestRefund(trips[1] as Record<string, unknown>, { amount: 20000 });

    const response = await bed.post({ events: [...trips, refund] });

    expect(response.statusCode).toBe(202);
    expect(response.json().accepted.map((a: { eventId: string }) => a.eventId)).toEqual([
      ...trips.map((t) => consumptionEventId('travel', 'completed', t.orderId as string)),
      consumptionEventId('travel', 'refunded', refund.refundId as string),
    ]);
    const records = await bed.reader.waitForCount(5, (r) => r.value.memberId === memberId);
    for (const record of records) {
      expect(record.key).toBe(memberId);
      expect(consumptionEventSchema.safeParse(record.value).success).toBe(true);
      expect(record.value.source).toBe('travel');
    }
    expect(records.slice(0, 4).map((r) => `${r.value.channel}/${r.value.category}`)).toEqual([
      'fliggy/flight',
      'fliggy/hotel',
      'fliggy/train',
      'fliggy/ticket',
    ]);
  });

  it('when the same trip is posted twice, then both answers carry the same eventId', async () => {
    const trip = ingestOrder({ channel: 'fliggy', category: 'hotel' });
    const [first, retry] = [await bed.post(trip), await bed.post(trip)];
    expect([first.statusCode, retry.statusCode]).toEqual([202, 202]);
    expect(retry.json()).toEqual(first.json());
  });

  it("when a trip names another source's category or the ride-hailing key is used, then 400 / 403", async () => {
    const physical = await bed.post(ingestOrder({ channel: 'fliggy', category: 'physical' }));
    const rideKey = await bed.post(ingestOrder({ channel: 'fliggy', category: 'train' }), 'dev-mobility-key');
    expect(physical.statusCode).toBe(400);
    expect(physical.json().error.fields.map((f: { field: string }) => f.field)).toEqual(['category']);
    expect(rideKey.statusCode).toBe(403);
  });

  it("when Fliggy's examples are validated, then they pass its schemas", () => {
    const { event } = ingestSchemas(travelSource, sourceCatalogue(travelSource, DEFAULT_RULE_SET));
    expect(event.safeParse(travelSource.examples.completed).success).toBe(true);
    expect(event.safeParse(travelSource.examples.refunded).success).toBe(true);
  });
});
