import { DEFAULT_CATALOGUE, vip88Bundle } from '@taobi/benefits';
import { uniqueId, waitFor } from '@taobi/tests';
import { ADMIN, CHECKOUT, Harness, READ, tierChange } from './harness';

const bundle = vip88Bundle(DEFAULT_CATALOGUE);
const bundleIds = bundle.map((b) => b.id).sort();
const statusIds = bundle
  .filter((b) => b.kind === 'status')
  .map((b) => b.id)
  .sort();

interface BundleGrant {
  id: string;
  benefitId: string;
  kind: string;
  status: string;
  period: string | null;
  expiresAt: string | null;
  vip88ActivationId: string | null;
}

describe('the 88VIP bundle (real Kafka and Postgres)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start();
  });
  afterAll(async () => {
    await h.close();
  });

  const vip88 = async (m: string) =>
    (await h.inject({ method: 'GET', url: `/v1/members/${m}/vip88`, headers: READ })).json() as {
      tier: string;
      active: boolean;
      activation: { id: string; expiresAt: string } | null;
      bundle: BundleGrant[];
    };
  const activate = (m: string, key: string) =>
    h.inject({
      method: 'POST',
      url: `/v1/members/${m}/vip88/activations`,
      headers: { ...CHECKOUT, 'idempotency-key': key },
    });
  const endTerms = async () => {
    const response = await h.inject({ method: 'POST', url: '/v1/admin/vip88-term-ends', headers: ADMIN });
    expect(response.statusCode).toBe(200);
    return response.json() as { termsClosed: number; revoked: number };
  };
  const grantsOf = async (m: string) =>
    (await h.inject({ method: 'GET', url: `/v1/members/${m}/entitlements?limit=1000`, headers: READ })).json()
      .entitlements as BundleGrant[];

  it('when a Platinum member activates 88VIP, then the bundle is granted for the term and published; the periodic job adds the next month’s coupon; the term’s end revokes the bundle once, and a renewal grants a new one', async () => {
    const m = uniqueId('m');
    const diamond = uniqueId('m');
    await h.produce([tierChange(m, 'BRONZE', 'PLATINUM', 1), tierChange(diamond, 'BRONZE', 'DIAMOND', 1)]);
    await waitFor(
      async () => (await vip88(m)).tier === 'PLATINUM' && (await vip88(diamond)).tier === 'DIAMOND',
      {
        description: 'both tiers applied',
      },
    );
    // A tier, however high, holds none of the bundle: Freshippo comes with 88VIP only.
    expect((await grantsOf(diamond)).map((g) => g.benefitId)).not.toEqual(
      expect.arrayContaining(['freshippo-membership']),
    );

    const activation = await activate(m, 'pay-1');
    expect(activation.statusCode).toBe(201);
    const term = activation.json() as { id: string; expiresAt: string };
    const view = await vip88(m);
    expect(view.bundle.map((g) => g.benefitId).sort()).toEqual(bundleIds);
    for (const grant of view.bundle) {
      expect(grant).toMatchObject({ status: 'granted', vip88ActivationId: term.id });
      if (grant.kind === 'status') expect(grant.expiresAt).toBe(term.expiresAt);
    }
    expect(view.bundle.find((g) => g.benefitId === 'vip88-monthly-coupon-pack')).toMatchObject({
      period: '2026-11',
      expiresAt: '2026-11-30T16:00:00.000Z',
    });
    const granted = await h.reader.waitForCount(
      bundleIds.length,
      (r) => r.key === m && r.value.action === 'granted' && r.value.details.vip88ActivationId === term.id,
    );
    expect(granted.map((r) => r.value.benefitId).sort()).toEqual(bundleIds);
    // Activating again with the same key grants nothing more.
    expect((await activate(m, 'pay-1')).statusCode).toBe(200);
    expect((await vip88(m)).bundle).toHaveLength(bundleIds.length);

    // December: the periodic job issues the 88VIP coupon to the holder, not to the Diamond member.
    h.clock.set('2026-12-01T01:00:00Z');
    try {
      const run = await h.inject({
        method: 'POST',
        url: '/v1/admin/periodic-grants',
        headers: ADMIN,
        payload: { period: '2026-12' },
      });
      expect(run.statusCode).toBe(200);
      const coupon = (await grantsOf(m)).filter((g) => g.benefitId === 'vip88-monthly-coupon-pack');
      expect(coupon.map((g) => [g.period, g.vip88ActivationId])).toEqual([
        ['2026-12', term.id],
        ['2026-11', term.id],
      ]);
      expect((await grantsOf(diamond)).some((g) => g.benefitId === 'vip88-monthly-coupon-pack')).toBe(false);

      // The term ends: its status benefits read revoked at once, and the job revokes and publishes them, once.
      h.clock.set(new Date(Date.parse(term.expiresAt) + 1000));
      const ended = await grantsOf(m);
      for (const id of statusIds) {
        expect(ended.find((g) => g.benefitId === id && g.vip88ActivationId === term.id)?.status).toBe(
          'revoked',
        );
      }
      expect(await endTerms()).toEqual({ termsClosed: 1, revoked: statusIds.length });
      expect(await endTerms()).toEqual({ termsClosed: 0, revoked: 0 });
      const revoked = await h.reader.waitForCount(
        statusIds.length,
        (r) => r.key === m && r.value.action === 'revoked',
      );
      expect(revoked.map((r) => r.value.benefitId).sort()).toEqual(statusIds);
      expect(revoked.every((r) => r.value.details.revokedBy === `vip88-term-end:${term.id}`)).toBe(true);
      expect((await vip88(m)).active).toBe(false);

      // A renewal is a new term with a new bundle.
      const renewal = await activate(m, 'pay-2');
      expect(renewal.statusCode).toBe(201);
      const renewed = await vip88(m);
      expect(renewed.bundle.map((g) => g.benefitId).sort()).toEqual(bundleIds);
      expect(
        renewed.bundle.every((g) => g.status === 'granted' && g.vip88ActivationId === renewal.json().id),
      ).toBe(true);
    } finally {
      h.clock.set('2026-11-18T04:00:00Z');
    }
  });

  it('when a term has ended but the job has not run, then a renewal closes it first and the new bundle is granted in full', async () => {
    const m = uniqueId('m');
    const first = await activate(m, 'first');
    expect(first.statusCode).toBe(201);
    h.clock.set(new Date(Date.parse(first.json().expiresAt) + 60_000));
    try {
      const renewal = await activate(m, 'second');
      expect(renewal.statusCode).toBe(201);
      const view = await vip88(m);
      expect(view.bundle.map((g) => g.benefitId).sort()).toEqual(bundleIds);
      const oldStatus = (await grantsOf(m)).filter(
        (g) => g.vip88ActivationId === first.json().id && g.kind === 'status',
      );
      expect(oldStatus.map((g) => g.status)).toEqual(statusIds.map(() => 'revoked'));
      expect(await endTerms()).toEqual({ termsClosed: 0, revoked: 0 });
    } finally {
      h.clock.set('2026-11-18T04:00:00Z');
    }
  });

  it('when the term-end job is called with a read key, then it is refused', async () => {
    const response = await h.inject({ method: 'POST', url: '/v1/admin/vip88-term-ends', headers: READ });
    expect(response.statusCode).toBe(403);
  });
});
