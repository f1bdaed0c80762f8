import { uniqueId, waitFor } from '@taobi/tests';
import { ADMIN, Harness, READ, tierChange } from './harness';

describe('merchant offers (real Postgres)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start();
  });
  afterAll(async () => {
    await h.close();
  });

  const offer = (overrides: Record<string, unknown> = {}) => ({
    merchantId: 'merchant-7',
    shopId: uniqueId('shop'),
    title: '10% off for Diamond and above',
    minTier: 'DIAMOND',
    percentOff: 10,
    validFrom: '2026-11-01T00:00:00+08:00',
    validTo: '2026-12-31T00:00:00+08:00',
    ...overrides,
  });
  const create = (body: unknown, headers: Record<string, string> = ADMIN) =>
    h.inject({ method: 'POST', url: '/v1/offers', headers, payload: body as Record<string, unknown> });
  const offersOf = async (m: string) => {
    const response = await h.inject({ method: 'GET', url: `/v1/members/${m}/offers`, headers: READ });
    expect(response.statusCode).toBe(200);
    return response.json() as { tier: string; offers: { id: string; source: string; shopId?: string }[] };
  };

  it.each([
    [
      'validFrom after validTo',
      { validFrom: '2026-12-31T00:00:00+08:00', validTo: '2026-12-01T00:00:00+08:00' },
      'validTo',
    ],
    ['an unknown tier', { minTier: 'TITANIUM' }, 'minTier'],
    ['no discount', { percentOff: 0 }, 'percentOff'],
    [
      'a window already over',
      { validFrom: '2026-10-01T00:00:00+08:00', validTo: '2026-11-01T00:00:00+08:00' },
      'validTo',
    ],
    ['an unknown field', { colour: 'red' }, 'colour'],
    ['a shop id with spaces', { shopId: 'shop 7' }, 'shopId'],
  ])(
    'when an offer has %s, then it is refused naming %s and nothing is stored',
    async (_name, overrides, field) => {
      const body = offer(overrides);
      const response = await create(body);
      expect(response.statusCode).toBe(400);
      expect(response.json().error.fields.map((f: { field: string }) => f.field)).toContain(field);
      const rows = await h.pool.query(
        'SELECT count(*)::int AS n FROM entitlement.offers WHERE shop_id = $1',
        [body.shopId],
      );
      expect(rows.rows[0].n).toBe(0);
    },
  );

  it('when a request bears no key or a read key, then offers cannot be created', async () => {
    expect((await create(offer(), {})).statusCode).toBe(401);
    expect((await create(offer(), READ)).statusCode).toBe(403);
  });

  it('when offers target Diamond and Gold, then a Diamond member sees both, a Gold member only the Gold one, and withdrawn or future offers are hidden', async () => {
    const diamondOffer = (await create(offer())).json();
    const goldOffer = (await create(offer({ minTier: 'GOLD', percentOff: 5 }))).json();
    const future = (await create(offer({ validFrom: '2026-12-01T00:00:00+08:00' }))).json();
    const withdrawn = (await create(offer())).json();
    const del = await h.inject({ method: 'DELETE', url: `/v1/offers/${withdrawn.id}`, headers: ADMIN });
    expect(del.statusCode).toBe(200);

    const diamond = uniqueId('m');
    const gold = uniqueId('m');
    await h.produce([tierChange(diamond, 'BRONZE', 'DIAMOND', 1), tierChange(gold, 'BRONZE', 'GOLD', 1)]);
    await waitFor(
      async () => (await offersOf(diamond)).tier === 'DIAMOND' && (await offersOf(gold)).tier === 'GOLD',
      {
        description: 'both tiers applied',
      },
    );
    const seenByDiamond = (await offersOf(diamond)).offers.map((o) => o.id);
    expect(seenByDiamond).toEqual(
      expect.arrayContaining([diamondOffer.id, goldOffer.id, 'tmall-luxury-pavilion-offer']),
    );
    expect(seenByDiamond).not.toContain(future.id);
    expect(seenByDiamond).not.toContain(withdrawn.id);
    const seenByGold = (await offersOf(gold)).offers.map((o) => o.id);
    expect(seenByGold).toContain(goldOffer.id);
    expect(seenByGold).not.toContain(diamondOffer.id);
    expect(seenByGold).not.toContain('tmall-luxury-pavilion-offer');
  });

  it('when a merchant retries a create with its Idempotency-Key, then the first offer is returned; a different offer under that key is refused', async () => {
    const key = uniqueId('offer');
    const body = offer();
    const first = await create(body, { ...ADMIN, 'idempotency-key': key });
    const again = await create(body, { ...ADMIN, 'idempotency-key': key });
    expect([first.statusCode, again.statusCode]).toEqual([201, 200]);
    expect(again.json()).toEqual(first.json());
    const changed = await create({ ...body, percentOff: 50 }, { ...ADMIN, 'idempotency-key': key });
    expect(changed.statusCode).toBe(422);
    expect(changed.json().error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });
});
