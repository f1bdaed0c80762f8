import { DEFAULT_RULE_SET } from '@taobi/rules';
import { uniqueId, waitFor, writeRuleSetFile } from '@taobi/tests';
import { ADMIN, CHECKOUT, firstAssignment, Harness, MERCHANT, MERCHANT_2, READ } from './harness';

const offer = (overrides: Record<string, unknown> = {}) => ({
  title: uniqueId('10% off for Diamond and above'),
  percentOff: 10,
  audience: { tiers: ['DIAMOND', 'BLACK_DIAMOND'] },
  validFrom: '2026-11-01T00:00:00+08:00',
  validTo: '2026-12-31T00:00:00+08:00',
  budget: 100,
  ...overrides,
});

describe('merchant offers (real Kafka and Postgres)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start();
  });
  afterAll(async () => {
    await h.close();
  });

  const create = (body: unknown, headers: Record<string, string> = MERCHANT) =>
    h.inject({ method: 'POST', url: '/v1/offers', headers, payload: body as Record<string, unknown> });
  const offersOf = async (m: string, query = '') => {
    const response = await h.inject({ method: 'GET', url: `/v1/members/${m}/offers${query}`, headers: READ });
    expect(response.statusCode).toBe(200);
    return response.json() as { tier: string; vip88: boolean; offers: { id: string; source: string }[] };
  };
  const redeem = (m: string, offerId: string, key: string) =>
    h.inject({
      method: 'POST',
      url: `/v1/members/${m}/offers/${offerId}/redemptions`,
      headers: { ...CHECKOUT, 'idempotency-key': key },
    });
  const stored = async (title: string) =>
    (await h.pool.query('SELECT count(*)::int AS n FROM entitlement.offers WHERE title = $1', [title]))
      .rows[0].n;

  it.each([
    [
      'validFrom after validTo',
      { validFrom: '2026-12-31T00:00:00+08:00', validTo: '2026-12-01T00:00:00+08:00' },
      'validTo',
    ],
    ['an unknown tier', { audience: { tiers: ['TITANIUM'] } }, 'audience.tiers.0'],
    ['no tier in the list', { audience: { tiers: [] } }, 'audience.tiers'],
    ['an unknown category', { audience: { categories: ['jewellery'] } }, 'audience.categories.0'],
    ['an audience field it does not know', { audience: { shops: ['s-1'] } }, 'audience.shops'],
    ['no discount', { percentOff: 0 }, 'percentOff'],
    ['no budget', { budget: 0 }, 'budget'],
    [
      'a window already over',
      { validFrom: '2026-10-01T00:00:00+08:00', validTo: '2026-11-01T00:00:00+08:00' },
      'validTo',
    ],
    ['the earlier API’s minTier', { minTier: 'DIAMOND' }, 'minTier'],
  ])(
    'when an offer has %s, then it is refused naming the field and nothing is stored',
    async (_name, overrides, field) => {
      const body = offer(overrides);
      const response = await create(body);
      expect(response.statusCode).toBe(400);
      expect(response.json().error.fields.map((f: { field: string }) => f.field)).toContain(field);
      expect(await stored(body.title)).toBe(0);
    },
  );

  it('when a key is not a merchant key, or names another merchant, then no offer is created', async () => {
    const body = offer();
    expect((await create(body, {})).statusCode).toBe(401);
    for (const key of [READ, ADMIN, CHECKOUT]) expect((await create(body, key)).statusCode).toBe(403);
    const other = await create({ ...body, merchantId: 'dev-merchant-2' });
    expect(other.statusCode).toBe(403);
    expect(await stored(body.title)).toBe(0);
    // Naming its own merchant, as the earlier API did, is accepted.
    expect((await create({ ...body, merchantId: 'dev-merchant' })).statusCode).toBe(201);
  });

  it('when two merchants publish offers, then each lists and withdraws only its own, and each change is published once', async () => {
    const mine = (await create(offer())).json();
    const theirs = (await create(offer(), MERCHANT_2)).json();
    expect(mine).toMatchObject({ merchantId: 'dev-merchant', budget: 100, redeemed: 0, status: 'live' });

    const listed = (await h.inject({ method: 'GET', url: '/v1/offers', headers: MERCHANT_2 })).json();
    expect(listed.merchantId).toBe('dev-merchant-2');
    expect(listed.offers.map((o: { id: string }) => o.id)).toContain(theirs.id);
    expect(listed.offers.every((o: { merchantId: string }) => o.merchantId === 'dev-merchant-2')).toBe(true);

    const withdraw = (id: string, headers: Record<string, string>) =>
      h.inject({ method: 'DELETE', url: `/v1/offers/${id}`, headers });
    expect((await withdraw(theirs.id, MERCHANT)).statusCode).toBe(403);
    expect((await withdraw('00000000-0000-4000-8000-000000000000', MERCHANT)).statusCode).toBe(404);
    const withdrawn = await withdraw(theirs.id, MERCHANT_2);
    expect(withdrawn.json()).toMatchObject({ status: 'withdrawn' });
    expect((await withdraw(theirs.id, MERCHANT_2)).json().withdrawnAt).toBe(withdrawn.json().withdrawnAt);

    await h.waitUntilPublished();
    const records = (id: string) => h.reader.matching((r) => r.value.benefitId === id).map((r) => r);
    expect(records(mine.id).map((r) => [r.key, r.value.action, r.value.memberId, r.value.tier])).toEqual([
      ['dev-merchant', 'published', null, null],
    ]);
    expect(records(theirs.id).map((r) => [r.key, r.value.action])).toEqual([
      ['dev-merchant-2', 'published'],
      ['dev-merchant-2', 'withdrawn'],
    ]);
    expect(records(mine.id)[0]?.value).toMatchObject({ benefitKind: 'offer', merchantId: 'dev-merchant' });
  });

  it('when offers target tiers, categories and 88VIP, then a member sees exactly those they qualify for now, narrowed by category and merchant', async () => {
    const diamondMeals = (
      await create(offer({ audience: { tiers: ['DIAMOND'], categories: ['meal'] } }))
    ).json();
    const everyone = (await create(offer({ audience: {} }), MERCHANT_2)).json();
    const vipOnly = (await create(offer({ audience: { vip88: true } }))).json();
    const future = (await create(offer({ validFrom: '2026-12-01T00:00:00+08:00', audience: {} }))).json();
    const withdrawn = (await create(offer({ audience: {} }))).json();
    await h.inject({ method: 'DELETE', url: `/v1/offers/${withdrawn.id}`, headers: MERCHANT });

    const diamond = uniqueId('m');
    const gold = uniqueId('m');
    const goldVip = uniqueId('m');
    await h.produce([
      firstAssignment(diamond, 'DIAMOND'),
      firstAssignment(gold, 'GOLD'),
      firstAssignment(goldVip, 'GOLD'),
    ]);
    await waitFor(
      async () => (await offersOf(goldVip)).tier === 'GOLD' && (await offersOf(diamond)).tier === 'DIAMOND',
      {
        description: 'the tiers applied',
      },
    );
    const activated = await h.inject({
      method: 'POST',
      url: `/v1/members/${goldVip}/vip88/activations`,
      headers: { ...CHECKOUT, 'idempotency-key': 'pay-1' },
    });
    expect(activated.statusCode).toBe(201);

    const ids = async (m: string, query = '') => (await offersOf(m, query)).offers.map((o) => o.id);
    const mine = [diamondMeals.id, everyone.id, vipOnly.id, future.id, withdrawn.id];
    const seen = async (m: string, query = '') =>
      (await ids(m, query)).filter((id) => mine.includes(id)).sort();
    expect(await seen(diamond)).toEqual([diamondMeals.id, everyone.id].sort());
    expect(await ids(diamond)).toContain('tmall-luxury-pavilion-offer');
    expect(await seen(gold)).toEqual([everyone.id]);
    expect(await seen(goldVip)).toEqual([everyone.id, vipOnly.id].sort());
    expect(await seen(diamond, '?category=meal')).toEqual([diamondMeals.id, everyone.id].sort());
    expect(await seen(diamond, '?category=physical')).toEqual([everyone.id]);
    expect(await seen(diamond, '?merchantId=dev-merchant-2')).toEqual([everyone.id]);
    expect(await ids(diamond, '?category=meal')).not.toContain('tmall-luxury-pavilion-offer');
    const bad = await h.inject({
      method: 'GET',
      url: `/v1/members/${diamond}/offers?category=jewellery`,
      headers: READ,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.fields).toEqual([expect.objectContaining({ field: 'query.category' })]);

    // Redeemed: no longer listed; not in the audience, withdrawn, or not yet valid: refused by name.
    expect((await redeem(diamond, diamondMeals.id, 'k-1')).statusCode).toBe(201);
    expect(await seen(diamond)).toEqual([everyone.id]);
    const refusals = [
      [await redeem(gold, diamondMeals.id, 'k-2'), 'OFFER_NOT_ELIGIBLE'],
      [await redeem(gold, vipOnly.id, 'k-3'), 'OFFER_NOT_ELIGIBLE'],
      [await redeem(gold, withdrawn.id, 'k-4'), 'OFFER_NOT_LIVE'],
      [await redeem(gold, future.id, 'k-5'), 'OFFER_NOT_LIVE'],
      [await redeem(diamond, diamondMeals.id, 'k-6'), 'OFFER_ALREADY_REDEEMED'],
    ] as const;
    for (const [response, code] of refusals) {
      expect(response.statusCode).toBe(409);
      expect(response.json().error.code).toBe(code);
    }
    expect((await redeem(goldVip, vipOnly.id, 'k-7')).statusCode).toBe(201);
  });

  it('when a checkout retries a redemption, then it is counted and published once; the key cannot be reused for another offer', async () => {
    const first = (await create(offer({ audience: {} }))).json();
    const second = (await create(offer({ audience: {} }))).json();
    const m = uniqueId('m');
    const [a, b] = [await redeem(m, first.id, 'pay-9'), await redeem(m, first.id, 'pay-9')];
    expect([a.statusCode, b.statusCode]).toEqual([201, 200]);
    expect(b.json()).toEqual(a.json());
    expect(a.json()).toMatchObject({
      offerId: first.id,
      memberId: m,
      merchantId: 'dev-merchant',
      tier: 'BRONZE',
    });
    const reused = await redeem(m, second.id, 'pay-9');
    expect(reused.statusCode).toBe(422);
    expect(reused.json().error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const mine = (await h.inject({ method: 'GET', url: '/v1/offers', headers: MERCHANT })).json();
    expect(mine.offers.find((o: { id: string }) => o.id === first.id)).toMatchObject({
      redeemed: 1,
      remaining: 99,
    });
    await h.waitUntilPublished();
    expect(h.published(m, 'redeemed')).toEqual([
      expect.objectContaining({ benefitId: first.id, merchantId: 'dev-merchant', tier: 'BRONZE' }),
    ]);

    const missing = await h.inject({
      method: 'POST',
      url: `/v1/members/${m}/offers/${second.id}/redemptions`,
      headers: CHECKOUT,
    });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.code).toBe('IDEMPOTENCY_KEY_REQUIRED');
    const asMerchant = await h.inject({
      method: 'POST',
      url: `/v1/members/${m}/offers/${second.id}/redemptions`,
      headers: { ...MERCHANT, 'idempotency-key': 'x-1' },
    });
    expect(asMerchant.statusCode).toBe(403);
  });

  it('when 50 members redeem a budget-10 offer at once over HTTP, then exactly 10 are redeemed and 40 refused, and Postgres refuses any count beyond the budget', async () => {
    const limited = (await create(offer({ audience: {}, budget: 10 }))).json();
    const base = await h.listen();
    const members = Array.from({ length: 50 }, () => uniqueId('m'));
    const responses = await Promise.all(
      members.map(async (m, i) => {
        const response = await fetch(`${base}/v1/members/${m}/offers/${limited.id}/redemptions`, {
          method: 'POST',
          headers: { ...CHECKOUT, 'idempotency-key': `race-${i}` },
        });
        // biome-ignore lint/suspicious/noExplicitAny: a JSON body the assertions look into
        return { status: response.status, body: (await response.json()) as any };
      }),
    );
    expect(responses.filter((r) => r.status === 201)).toHaveLength(10);
    const refused = responses.filter((r) => r.status === 409);
    expect(refused).toHaveLength(40);
    expect(refused.every((r) => r.body.error.code === 'OFFER_BUDGET_EXHAUSTED')).toBe(true);

    const { rows } = await h.pool.query(
      `SELECT o.redeemed, (SELECT count(*)::int FROM entitlement.offer_redemptions r WHERE r.offer_id = o.id) AS n
       FROM entitlement.offers o WHERE o.id = $1`,
      [limited.id],
    );
    expect(rows[0]).toEqual({ redeemed: 10, n: 10 });
    await expect(
      h.pool.query('UPDATE entitlement.offers SET redeemed = redeemed + 1 WHERE id = $1', [limited.id]),
    ).rejects.toMatchObject({ code: '23514' });
    await h.waitUntilPublished();
    const redeemed = h.reader.matching(
      (r) => r.value.benefitId === limited.id && r.value.action === 'redeemed',
    );
    expect(redeemed).toHaveLength(10);
    expect((await offersOf(members[0] as string)).offers.map((o) => o.id)).not.toContain(limited.id);
  });
});

describe('merchant offers under a rule set with a fifth source (sources are data)', () => {
  it("when the rule set adds a source, then an offer may target its categories and a member's offers narrow to one; a category no source has is still refused", async () => {
    const cinema = {
      channels: ['maoyan'],
      categories: { screening: { fenPerPoint: 2_000, orderCap: 15 } },
      monthlyCap: 30,
      frequency: { pointsPerOrder: 1, minNetAmount: 3_000, monthlyCap: 4 },
    };
    const file = writeRuleSetFile({
      ...DEFAULT_RULE_SET,
      version: '2026.1-cinema',
      score: { ...DEFAULT_RULE_SET.score, sources: { ...DEFAULT_RULE_SET.score.sources, cinema } },
    });
    const h = await Harness.start({ env: { RULE_SET_FILE: file.path } });
    try {
      const create = (body: unknown) =>
        h.inject({ method: 'POST', url: '/v1/offers', headers: MERCHANT, payload: body as object });
      const screenings = await create(offer({ audience: { categories: ['screening'] } }));
      expect(screenings.statusCode).toBe(201);
      const unknown = await create(offer({ audience: { categories: ['jewellery'] } }));
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json().error.fields).toEqual([
        expect.objectContaining({
          field: 'audience.categories.0',
          message: expect.stringContaining('screening'),
        }),
      ]);

      const member = uniqueId('m');
      await h.produce([firstAssignment(member, 'DIAMOND')]);
      const offersOf = async (query: string) =>
        h.inject({ method: 'GET', url: `/v1/members/${member}/offers${query}`, headers: READ });
      await waitFor(async () => (await offersOf('')).json().tier === 'DIAMOND', {
        description: 'the tier applied',
      });
      const listed = (await offersOf('?category=screening')).json().offers.map((o: { id: string }) => o.id);
      expect(listed).toContain(screenings.json().id);
      expect((await offersOf('?category=jewellery')).statusCode).toBe(400);
    } finally {
      await h.close();
      file.remove();
    }
  });
});
