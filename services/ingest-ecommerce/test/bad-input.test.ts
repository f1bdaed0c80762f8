/**
 * Every bad-input and auth case of the ingest API (shared by the four services through
 * @taobi/ingest), through ingest-ecommerce against the real broker: each is answered with the
 * right status and a body naming the field, and none publishes anything.
 */
import { type IngestBed, ingestOrder, ingestRefund, startIngestBed, uniqueId, waitFor } from '@taobi/tests';
import { buildService } from '../src/app';
import { configSchema } from '../src/config';

const KEY = 'dev-ecommerce-key';
const DAY = 86_400_000;

describe('ingest-ecommerce rejects bad input and publishes nothing', () => {
  let bed: IngestBed;
  /** Every rejected event in this file is for this member, so it would land on one partition. */
  const memberId = uniqueId('m');
  const order = (overrides: Record<string, unknown> = {}) =>
    ingestOrder({ memberId, channel: 'tmall', category: 'physical', ...overrides });

  beforeAll(async () => {
    bed = await startIngestBed({ schema: configSchema, build: buildService, key: KEY });
  });

  afterAll(async () => {
    await bed.close();
  });

  const { refundId: _gone, ...refundWithoutId } = ingestRefund(order());
  const { amount: _noAmount, ...withoutAmount } = order();

  it.each<[string, number, string, string[], unknown]>([
    ['malformed JSON', 400, 'INVALID_JSON', [], '{"type": "order.completed", '],
    ['an empty body', 400, 'INVALID_JSON', [], ''],
    ['a JSON array', 400, 'VALIDATION_FAILED', [''], [order()]],
    ['a missing field', 400, 'VALIDATION_FAILED', ['amount'], withoutAmount],
    ['a mistyped amount', 400, 'VALIDATION_FAILED', ['amount'], order({ amount: '12800' })],
    ['a mistyped memberId', 400, 'VALIDATION_FAILED', ['memberId'], order({ memberId: 10001 })],
    ['a bad memberId', 400, 'VALIDATION_FAILED', ['memberId'], order({ memberId: 'm 1/2' })],
    ['an unknown field', 400, 'VALIDATION_FAILED', ['merchantID'], order({ merchantID: 'shop-1' })],
    ['an unknown type', 400, 'VALIDATION_FAILED', ['type'], order({ type: 'order.placed' })],
    ["another source's channel", 400, 'VALIDATION_FAILED', ['channel'], order({ channel: 'eleme' })],
    ["another source's category", 400, 'VALIDATION_FAILED', ['category'], order({ category: 'flight' })],
    ['a negative amount', 400, 'VALIDATION_FAILED', ['amount'], order({ amount: -100 })],
    ['a zero amount', 400, 'VALIDATION_FAILED', ['amount'], order({ amount: 0 })],
    ['a fractional amount', 400, 'VALIDATION_FAILED', ['amount'], order({ amount: 99.5 })],
    [
      'an absurd amount (> 10,000,000 CNY)',
      400,
      'VALIDATION_FAILED',
      ['amount'],
      order({ amount: 1_000_000_001 }),
    ],
    ['a non-CNY currency', 400, 'VALIDATION_FAILED', ['currency'], order({ currency: 'USD' })],
    [
      'a timestamp without offset',
      400,
      'VALIDATION_FAILED',
      ['occurredAt'],
      order({ occurredAt: '2026-11-20 10:00' }),
    ],
    ['a refund without refundId', 400, 'VALIDATION_FAILED', ['refundId'], refundWithoutId],
    [
      'occurredAt 10 minutes in the future',
      422,
      'OCCURRED_AT_OUT_OF_RANGE',
      ['occurredAt'],
      order({ occurredAt: new Date(Date.now() + 10 * 60_000).toISOString() }),
    ],
    [
      'occurredAt before the 12-month scoring window',
      422,
      'OCCURRED_AT_OUT_OF_RANGE',
      ['occurredAt'],
      order({ occurredAt: new Date(Date.now() - 400 * DAY).toISOString() }),
    ],
    [
      'a batch with one bad event among good ones',
      400,
      'VALIDATION_FAILED',
      ['events.1.amount'],
      { events: [order(), order({ amount: -1 }), order()] },
    ],
    [
      'a batch with the same order twice',
      400,
      'VALIDATION_FAILED',
      ['events.1.orderId'],
      { events: [order({ orderId: 'dup-1' }), order({ orderId: 'dup-1' })] },
    ],
    ['an empty batch', 400, 'VALIDATION_FAILED', ['events'], { events: [] }],
    [
      'a batch of 501 events',
      413,
      'BATCH_TOO_LARGE',
      ['events'],
      { events: Array.from({ length: 501 }, () => order()) },
    ],
    [
      'a body over the 1 MiB limit',
      413,
      'PAYLOAD_TOO_LARGE',
      [],
      { events: [order({ merchantId: 'x'.repeat(1_100_000) })] },
    ],
  ])('when the body is %s, then %i %s naming %j', async (_what, status, code, fields, body) => {
    const response = await bed.post(body);

    expect(response.statusCode).toBe(status);
    expect(response.json().error.code).toBe(code);
    expect((response.json().error.fields ?? []).map((f: { field: string }) => f.field)).toEqual(fields);
    for (const field of response.json().error.fields ?? []) expect(field.message).toEqual(expect.any(String));
  });

  it('when the content type is not JSON, then 415', async () => {
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded']) {
      const response = await bed.post(JSON.stringify(order()), KEY, { 'content-type': contentType });
      expect(response.statusCode).toBe(415);
      expect(response.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it.each<[string, number, string, string | null]>([
    ['no key', 401, 'UNAUTHORIZED', null],
    ['an unknown key', 401, 'UNAUTHORIZED', 'not-a-key-of-anyone'],
    ["the food platform's key", 403, 'FORBIDDEN', 'dev-food-key'],
    ["the read API's key", 401, 'UNAUTHORIZED', 'dev-read-key'],
  ])('when the request carries %s, then %i %s', async (_what, status, code, key) => {
    const response = await bed.post(order(), key);

    expect(response.statusCode).toBe(status);
    expect(response.json().error.code).toBe(code);
    if (status === 401) expect(response.headers['www-authenticate']).toBe('Bearer');
  });

  it('when the key is not a bearer token, then 401', async () => {
    const response = await bed.post(order(), null, { authorization: KEY });
    expect(response.statusCode).toBe(401);
  });

  it('when requests are rejected, then the rejected-events metric counts them by reason', async () => {
    await bed.post({ events: [order({ amount: 0 }), order({ amount: 0 }), order()] });
    const metrics = (await bed.service.app.inject({ method: 'GET', url: '/metrics' })).body;
    const count = (reason: string) =>
      Number(
        new RegExp(`taobi_ingest_events_rejected_total\\{[^}]*reason="${reason}"[^}]*\\} (\\d+)`).exec(
          metrics,
        )?.[1],
      );
    expect(count('VALIDATION_FAILED')).toBeGreaterThanOrEqual(3);
    expect(count('FORBIDDEN')).toBeGreaterThanOrEqual(1);
    expect(count('BATCH_TOO_LARGE')).toBeGreaterThanOrEqual(501);
  });
  // Runs last in this describe: jest runs a file's tests in order.
  it('when every request above was rejected, then none of it reached the topic', async () => {
    // A marker posted last for the same member lands on the same partition, after anything a
    // rejected request might have published: it must be that member's only record.
    const marker = order();
    expect((await bed.post(marker)).statusCode).toBe(202);
    const records = await bed.reader.waitForCount(1, (r) => r.value.memberId === memberId);
    expect(records.map((r) => r.value.orderId)).toEqual([marker.orderId]);
  });
});

describe('ingest rate limit per key', () => {
  it('when a key exceeds its rate, then 429 with Retry-After, and other keys are not affected', async () => {
    const bed = await startIngestBed({
      schema: configSchema,
      build: buildService,
      key: KEY,
      env: {
        INGEST_API_KEYS:
          'ecommerce:first-ecommerce-key,ecommerce:second-ecommerce-key,ecommerce:warm-up-key-01,food:a-food-key-1',
        INGEST_RATE_LIMIT_PER_SECOND: '1',
        INGEST_RATE_LIMIT_BURST: '2',
      },
    });
    try {
      // The first send of a new producer to new topics can outlast the publish deadline on a loaded
      // machine (a 503, as it should); a key of its own takes that, so the limits below are exact.
      const tmallOrder = () => ingestOrder({ channel: 'tmall', category: 'physical' });
      await waitFor(async () => (await bed.post(tmallOrder(), 'warm-up-key-01')).statusCode === 202, {
        timeoutMs: 60_000,
        intervalMs: 1000,
        description: 'a first 202 from the ingest service',
      });
      // At once, within one window, over real HTTP: concurrent `inject` calls confuse the rate-limit
      // plugin's per-request bookkeeping (all four come back 429), a real server does not.
      const url = await bed.service.app.listen({ port: 0, host: '127.0.0.1' });
      const send = (key: string) =>
        fetch(`${url}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify(tmallOrder()),
        });
      const responses = await Promise.all(Array.from({ length: 4 }, () => send('first-ecommerce-key')));
      const other = await send('second-ecommerce-key');

      expect(responses.map((r) => r.status).sort()).toEqual([202, 202, 429, 429]);
      const limited = responses.find((r) => r.status === 429) as Response;
      const body = (await limited.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('RATE_LIMITED');
      expect(body.error.message).toBe('rate limit exceeded: at most 2 requests per 2000 ms for this key');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(other.status).toBe(202);
    } finally {
      await bed.close();
    }
  });
});
