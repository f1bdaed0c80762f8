import { consumptionEventId, consumptionEventSchema } from '@taobi/contracts';
import { ingestSchemas, sourceCatalogue } from '@taobi/ingest';
import { DEFAULT_RULE_SET } from '@taobi/rules';
import { type IngestBed, ingestOrder, ingestRefund, startIngestBed } from '@taobi/tests';
import { buildService } from '../src/app';
import { configSchema } from '../src/config';
import { mobilitySource } from '../src/domain/source';

describe('ingest-mobility against the real broker', () => {
  let bed: IngestBed;

  beforeAll(async () => {
    bed = await startIngestBed({ schema: configSchema, build: buildService, key: 'dev-mobility-key' });
  });

  afterAll(async () => {
    await bed.close();
  });

  it('when a ride without channel and category and its refund are posted, then they arrive canonical as ride-hailing / ride', async () => {
    const ride = ingestOrder({ amount: 2340 });
    const refund = ingestRefund(ride, { amount: 340 });

    const responses = [await bed.post(ride), await bed.post(refund)];

    expect(responses.map((r) => r.statusCode)).toEqual([202, 202]);
    const records = await bed.reader.waitForCount(2, (r) => r.value.memberId === ride.memberId);
    for (const record of records) {
      expect(record.key).toBe(ride.memberId);
      expect(consumptionEventSchema.safeParse(record.value).success).toBe(true);
    }
    expect(records[0]?.value).toMatchObject({
      eventId: consumptionEventId('mobility', 'completed', ride.orderId as string),
      source: 'mobility',
      channel: 'ride-hailing',
      category: 'ride',
      amount: 2340,
    });
    expect(records[1]?.value).toMatchObject({ kind: 'refunded', source: 'mobility', amount: 340 });
  });

  it('when the same ride is posted twice, then both answers carry the same eventId', async () => {
    const ride = ingestOrder({ channel: 'ride-hailing', category: 'ride' });
    const [first, retry] = [await bed.post(ride), await bed.post(ride)];
    expect([first.statusCode, retry.statusCode]).toEqual([202, 202]);
    expect(retry.json()).toEqual(first.json());
  });

  it('when a ride names a channel of another source, then 400 naming it', async () => {
    const response = await bed.post(ingestOrder({ channel: 'eleme' }));
    expect(response.statusCode).toBe(400);
    expect(response.json().error.fields.map((f: { field: string }) => f.field)).toEqual(['channel']);
  });

  it("when the ride-hailing app's examples are validated, then they pass its schemas", () => {
    const { event } = ingestSchemas(mobilitySource, sourceCatalogue(mobilitySource, DEFAULT_RULE_SET));
    expect(event.safeParse(mobilitySource.examples.completed).success).toBe(true);
    expect(event.safeParse(mobilitySource.examples.refunded).success).toBe(true);
  });
});
