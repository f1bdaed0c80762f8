import { createHash } from 'node:crypto';
import { DEFAULT_CATALOGUE, drawWelcomeGift, newSeed, welcomeGift } from '@taobi/benefits';
import type { Tier } from '@taobi/contracts';
import { uniqueId, waitFor } from '@taobi/tests';
import { ADMIN, Harness, READ, tierChange } from './harness';

const { odds } = welcomeGift(DEFAULT_CATALOGUE).fulfilment;

/** The first of a fixed sequence of seeds that wins (or loses) for this member and tier. */
function seedThat(win: boolean, memberId: string, tier: Tier): string {
  for (let i = 0; ; i += 1) {
    const seed = createHash('sha256').update(`${memberId}:${i}`).digest('hex');
    const outcome = drawWelcomeGift({
      seed,
      memberId,
      tier,
      odds,
      catalogueVersion: DEFAULT_CATALOGUE.version,
    });
    if (outcome.won === win) return seed;
  }
}

describe('the welcome-gift lottery (real Kafka and Postgres)', () => {
  const seeds: string[] = [];
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start({ service: { newSeed: () => seeds.shift() ?? newSeed() } });
  });
  afterAll(async () => {
    await h.close();
  });

  const draw = (m: string) =>
    h.inject({ method: 'POST', url: `/v1/members/${m}/welcome-gift/draw`, headers: ADMIN });
  const audit = async (m: string) =>
    (await h.inject({ method: 'GET', url: `/v1/members/${m}/welcome-gift`, headers: READ })).json();

  it('when a Platinum member wins, then the voucher is granted once, published, and the draw re-derives from its recorded seed', async () => {
    const m = uniqueId('m');
    await h.produce([tierChange(m, 'BRONZE', 'PLATINUM', 1)]);
    await waitFor(async () => ((await audit(m)).tier === 'PLATINUM' ? true : undefined), {
      description: 'Platinum',
    });
    expect(await audit(m)).toMatchObject({ drawn: false, probability: odds.PLATINUM });
    seeds.push(seedThat(true, m, 'PLATINUM'));

    const [first, again] = [await draw(m), await draw(m)];
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    const recorded = (await audit(m)).draw;
    expect(recorded).toMatchObject({
      tier: 'PLATINUM',
      probability: odds.PLATINUM,
      won: true,
      catalogueVersion: DEFAULT_CATALOGUE.version,
    });

    // Anyone re-derives the outcome from the audit record alone.
    const rederived = drawWelcomeGift({
      seed: recorded.seed,
      memberId: m,
      tier: recorded.tier,
      odds: { ...odds, [recorded.tier]: recorded.probability },
      catalogueVersion: recorded.catalogueVersion,
    });
    expect(rederived.value).toBe(recorded.value);
    expect(rederived.won).toBe(recorded.won);

    const vouchers = (await h.entitlements(m)).entitlements.filter(
      (e) => e.benefitId === 'welcome-gift-milk-tea',
    );
    expect(vouchers).toEqual([
      expect.objectContaining({ id: recorded.entitlementId, kind: 'one-time', status: 'granted' }),
    ]);
    const published = await h.reader.waitForCount(
      1,
      (r) => r.key === m && r.value.benefitId === 'welcome-gift-milk-tea',
    );
    expect(published[0]?.value).toMatchObject({ action: 'granted', benefitKind: 'one-time' });
  });

  it('when a Bronze member never seen loses, then the draw is recorded without a voucher, and concurrent draws make one draw', async () => {
    const m = uniqueId('m');
    seeds.push(seedThat(false, m, 'BRONZE'));
    const responses = await Promise.all([draw(m), draw(m), draw(m)]);
    expect(responses.map((r) => r.statusCode).sort()).toEqual([200, 200, 201]);
    const recorded = (await audit(m)).draw;
    expect(recorded).toMatchObject({
      tier: 'BRONZE',
      probability: odds.BRONZE,
      won: false,
      entitlementId: null,
      prize: null,
    });
    const rederived = drawWelcomeGift({
      seed: recorded.seed,
      memberId: m,
      tier: 'BRONZE',
      odds,
      catalogueVersion: DEFAULT_CATALOGUE.version,
    });
    expect(rederived).toMatchObject({ value: recorded.value, won: false });
    const rows = await h.pool.query(
      'SELECT count(*)::int AS n FROM entitlement.welcome_draws WHERE member_id = $1',
      [m],
    );
    expect(rows.rows[0].n).toBe(1);
    expect((await h.entitlements(m)).entitlements).toEqual([]);
  });

  it('when the member id is malformed or the key is a read key, then no draw happens', async () => {
    const bad = await h.inject({
      method: 'POST',
      url: '/v1/members/bad%20id/welcome-gift/draw',
      headers: ADMIN,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.fields).toEqual([{ field: 'memberId', message: expect.any(String) }]);
    const read = await h.inject({ method: 'POST', url: '/v1/members/m-1/welcome-gift/draw', headers: READ });
    expect(read.statusCode).toBe(403);
  });
});
