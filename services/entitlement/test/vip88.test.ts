import { uniqueId, waitFor } from '@taobi/tests';
import { CHECKOUT, Harness, READ, tierChange } from './harness';

describe('88VIP (real Kafka and Postgres)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start();
  });
  afterAll(async () => {
    await h.close();
  });

  const vip88 = async (m: string) => {
    const response = await h.inject({ method: 'GET', url: `/v1/members/${m}/vip88`, headers: READ });
    expect(response.statusCode).toBe(200);
    return response.json();
  };
  const activate = (m: string, key?: string) =>
    h.inject({
      method: 'POST',
      url: `/v1/members/${m}/vip88/activations`,
      headers: { ...CHECKOUT, ...(key ? { 'idempotency-key': key } : {}) },
    });
  const reachTier = async (m: string, tier: string) =>
    waitFor(async () => ((await vip88(m)).tier === tier ? true : undefined), {
      description: `${m} at ${tier}`,
    });

  it('when a member is below Platinum, then 88VIP costs 888 CNY and activates at that price', async () => {
    const m = uniqueId('m');
    expect(await vip88(m)).toEqual({
      memberId: m,
      tier: 'BRONZE',
      eligibleForNominalPrice: false,
      price: { amount: 88800, currency: 'CNY' },
      active: false,
      expiresAt: null,
      activation: null,
      bundle: [],
    });
    await h.produce([tierChange(m, 'BRONZE', 'GOLD', 1)]);
    await reachTier(m, 'GOLD');
    const response = await activate(m, 'order-1');
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ tier: 'GOLD', price: { amount: 88800, currency: 'CNY' } });
    expect(h.published(m, 'eligibility-changed')).toHaveLength(0);
  });

  it('when a Platinum member activates twice with one key, then one term at 88 CNY is charged once; another key is refused while it runs; a downgrade keeps it', async () => {
    const m = uniqueId('m');
    await h.produce([tierChange(m, 'BRONZE', 'PLATINUM', 1)]);
    await reachTier(m, 'PLATINUM');
    expect(await vip88(m)).toMatchObject({
      eligibleForNominalPrice: true,
      price: { amount: 8800 },
      active: false,
    });
    const [eligible] = await h.reader.waitForCount(
      1,
      (r) => r.key === m && r.value.action === 'eligibility-changed',
    );
    expect(eligible?.value).toMatchObject({
      benefitId: 'vip88',
      benefitKind: 'membership',
      tier: 'PLATINUM',
    });

    // A checkout retrying the same payment, concurrently and then later.
    const concurrent = await Promise.all([
      activate(m, 'pay-42'),
      activate(m, 'pay-42'),
      activate(m, 'pay-42'),
    ]);
    const retried = await activate(m, 'pay-42');
    const all = [...concurrent, retried];
    expect(all.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 201]);
    const bodies = all.map((r) => r.json());
    for (const body of bodies) expect(body).toEqual(bodies[0]);
    expect(bodies[0]).toMatchObject({
      memberId: m,
      tier: 'PLATINUM',
      price: { amount: 8800, currency: 'CNY' },
    });
    const startsAt = new Date(bodies[0].startsAt);
    expect(bodies[0].expiresAt).toBe(
      new Date(
        Date.UTC(
          startsAt.getUTCFullYear() + 1,
          startsAt.getUTCMonth(),
          startsAt.getUTCDate(),
          startsAt.getUTCHours(),
          startsAt.getUTCMinutes(),
        ),
      ).toISOString(),
    );

    const rows = await h.pool.query(
      'SELECT count(*)::int AS n FROM entitlement.vip88_activations WHERE member_id = $1',
      [m],
    );
    expect(rows.rows[0].n).toBe(1);
    const activated = await h.reader.waitForCount(1, (r) => r.key === m && r.value.action === 'activated');
    expect(activated[0]?.value.details).toMatchObject({ id: bodies[0].id, price: { amount: 8800 } });

    const second = await activate(m, 'pay-43');
    expect(second.statusCode).toBe(409);
    expect(second.json().error.code).toBe('VIP88_ALREADY_ACTIVE');

    // Downgraded at the evaluation: the price to activate rises, the running term is untouched.
    await h.produce([tierChange(m, 'PLATINUM', 'GOLD', 2, { reason: 'monthly-evaluation' })]);
    await reachTier(m, 'GOLD');
    expect(await vip88(m)).toMatchObject({
      eligibleForNominalPrice: false,
      price: { amount: 88800 },
      active: true,
      expiresAt: bodies[0].expiresAt,
      activation: { id: bodies[0].id, price: { amount: 8800 } },
    });
    const changes = await h.reader.waitForCount(
      2,
      (r) => r.key === m && r.value.action === 'eligibility-changed',
    );
    expect(changes[1]?.value.details).toMatchObject({
      eligibleForNominalPrice: false,
      price: { amount: 88800 },
    });
    expect(h.published(m, 'activated')).toHaveLength(1);

    // A year later the term has ended; a renewal is charged at the price the member qualifies for now.
    h.clock.set(new Date(Date.parse(bodies[0].expiresAt) + 1000));
    try {
      expect(await vip88(m)).toMatchObject({ active: false, expiresAt: null });
      const renewal = await activate(m, 'pay-44');
      expect(renewal.statusCode).toBe(201);
      expect(renewal.json()).toMatchObject({ price: { amount: 88800 }, tier: 'GOLD' });
    } finally {
      h.clock.set('2026-11-18T04:00:00Z');
    }
  });

  it('when 50 activations with distinct keys race over HTTP on a running clock, then one is created, 49 are refused naming it and one record is published', async () => {
    const m = uniqueId('m');
    await h.produce([tierChange(m, 'BRONZE', 'PLATINUM', 1)]);
    await reachTier(m, 'PLATINUM');
    const base = await h.listen();
    const post = async (key: string) => {
      const response = await fetch(`${base}/v1/members/${m}/vip88/activations`, {
        method: 'POST',
        headers: { ...CHECKOUT, 'idempotency-key': key },
      });
      // biome-ignore lint/suspicious/noExplicitAny: a JSON body the assertions below look into
      return { status: response.status, body: (await response.json()) as any };
    };
    h.clock.runFrom('2026-11-18T04:00:00Z');
    try {
      const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => post(`race-${i}`)));
      const created = responses.filter((r) => r.status === 201);
      expect(created).toHaveLength(1);
      const winner = created[0]?.body;
      const refused = responses.filter((r) => r.status === 409);
      expect(refused).toHaveLength(49);
      for (const response of refused) {
        expect(response.body.error).toMatchObject({
          code: 'VIP88_ALREADY_ACTIVE',
          activationId: winner.id,
          expiresAt: winner.expiresAt,
        });
      }
      // The winner's key replays its activation; a loser's key retried is refused again.
      const winnerIndex = responses.findIndex((r) => r.status === 201);
      expect(await post(`race-${winnerIndex}`)).toEqual({ status: 200, body: winner });
      expect((await post(`race-${winnerIndex === 0 ? 1 : 0}`)).status).toBe(409);
    } finally {
      h.clock.set('2026-11-18T04:00:00Z');
    }
    const rows = await h.pool.query('SELECT id FROM entitlement.vip88_activations WHERE member_id = $1', [m]);
    expect(rows.rows).toHaveLength(1);
    await h.waitUntilPublished();
    expect(h.published(m, 'activated').map((r) => r.details)).toEqual([
      expect.objectContaining({ id: rows.rows[0].id }),
    ]);
  });

  it('when an instance whose clock lags activates during a term that starts later, then Postgres refuses the overlap with a 409 naming the term', async () => {
    const m = uniqueId('m');
    const first = await activate(m, 'ahead');
    expect(first.statusCode).toBe(201);
    h.clock.set('2026-11-18T03:59:00Z');
    try {
      const behind = await activate(m, 'behind');
      expect(behind.statusCode).toBe(409);
      expect(behind.json().error).toMatchObject({
        code: 'VIP88_ALREADY_ACTIVE',
        activationId: first.json().id,
      });
    } finally {
      h.clock.set('2026-11-18T04:00:00Z');
    }
    await expect(
      h.pool.query(
        `INSERT INTO entitlement.vip88_activations
           (member_id, idempotency_key, tier, price_fen, currency, starts_at, expires_at, catalogue_version)
         VALUES ($1, 'by-hand', 'BRONZE', 88800, 'CNY', '2027-03-01Z', '2028-03-01Z', '2026.1')`,
        [m],
      ),
    ).rejects.toMatchObject({ code: '23P01' });
  });

  it('when the Idempotency-Key is missing or the key is not a checkout key (the admin key included), then nothing is activated', async () => {
    const m = uniqueId('m');
    const missing = await activate(m);
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error).toMatchObject({
      code: 'IDEMPOTENCY_KEY_REQUIRED',
      fields: [{ field: 'headers.idempotency-key' }],
    });
    const badKey = await activate(m, 'has space');
    expect(badKey.statusCode).toBe(400);
    const readKey = await h.inject({
      method: 'POST',
      url: `/v1/members/${m}/vip88/activations`,
      headers: { ...READ, 'idempotency-key': 'k' },
    });
    expect(readKey.statusCode).toBe(403);
    const adminKey = await h.inject({
      method: 'POST',
      url: `/v1/members/${m}/vip88/activations`,
      headers: { authorization: 'Bearer dev-admin-key', 'idempotency-key': 'k' },
    });
    expect(adminKey.statusCode).toBe(403);
    const body = await h.inject({
      method: 'POST',
      url: `/v1/members/${m}/vip88/activations`,
      headers: { ...CHECKOUT, 'idempotency-key': 'k' },
      payload: { price: 1 },
    });
    expect(body.statusCode).toBe(400);
    const rows = await h.pool.query(
      'SELECT count(*)::int AS n FROM entitlement.vip88_activations WHERE member_id = $1',
      [m],
    );
    expect(rows.rows[0].n).toBe(0);
  });
});
