import { clawbacksAbove, DEFAULT_CATALOGUE, vip88Bundle } from '@taobi/benefits';
import { uniqueId, waitFor } from '@taobi/tests';
import { CHECKOUT, firstAssignment, Harness, LOTTERY, READ, tierChange } from './harness';

describe('a refund clawback (real Kafka and Postgres)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start();
  });
  afterAll(async () => {
    await h.close();
  });

  it('when a refund takes a Black Diamond upgrade back to Silver, then every grant of the upgrade that is still live is revoked and published; used ones, Silver’s and Bronze’s, and the 88VIP bundle stay', async () => {
    const m = uniqueId('m');
    await h.produce([firstAssignment(m, 'BRONZE'), tierChange(m, 'BRONZE', 'BLACK_DIAMOND', 2)]);
    const before = await waitFor(
      async () => {
        const view = await h.entitlements(m);
        return view.tier === 'BLACK_DIAMOND' ? view.entitlements : undefined;
      },
      { description: 'Black Diamond' },
    );
    // The member spends one Gold coupon at once and buys 88VIP while Black Diamond.
    const coupon = before.find((e) => e.benefitId === 'tmall-monthly-coupon');
    const used = await h.inject({
      method: 'POST',
      url: `/v1/members/${m}/entitlements/${coupon?.id}/use`,
      headers: CHECKOUT,
    });
    expect(used.statusCode).toBe(200);
    const activation = await h.inject({
      method: 'POST',
      url: `/v1/members/${m}/vip88/activations`,
      headers: { ...CHECKOUT, 'idempotency-key': 'pay-1' },
    });
    expect(activation.statusCode).toBe(201);
    const draws = (
      await h.inject({ method: 'GET', url: `/v1/members/${m}/welcome-gift`, headers: READ })
    ).json().draws as { tier: string; won: boolean; entitlementId: string | null }[];
    expect(draws.map((d) => d.tier)).toEqual(['BRONZE', 'BLACK_DIAMOND']);

    const clawback = tierChange(m, 'BLACK_DIAMOND', 'SILVER', 3, { reason: 'refund-clawback', score: 450 });
    await h.produce([clawback]);
    const after = await waitFor(
      async () => {
        const view = await h.entitlements(m);
        return view.tier === 'SILVER' ? view.entitlements : undefined;
      },
      { description: 'the clawback to apply' },
    );

    const statusOf = (id: string) => after.filter((e) => e.benefitId === id).map((e) => e.status);
    const aboveSilver = clawbacksAbove(DEFAULT_CATALOGUE, 'SILVER').filter((c) => c.benefitId !== LOTTERY);
    const statusAbove = DEFAULT_CATALOGUE.benefits.filter(
      (b) =>
        b.kind === 'status' && 'minTier' in b.audience && !['BRONZE', 'SILVER'].includes(b.audience.minTier),
    );
    for (const { benefitId } of aboveSilver) {
      expect(statusOf(benefitId)).toEqual([benefitId === 'tmall-monthly-coupon' ? 'used' : 'revoked']);
    }
    for (const benefit of statusAbove) expect(statusOf(benefit.id)).toEqual(['revoked']);
    for (const kept of [
      'free-return-shipping',
      'silver-arrival-gift',
      'eleme-monthly-red-packet',
      'flash-sale-weekly-coupon',
      'daily-check-in-red-packet',
    ]) {
      expect(statusOf(kept)).toEqual(['granted']);
    }
    for (const benefit of vip88Bundle(DEFAULT_CATALOGUE)) expect(statusOf(benefit.id)).toEqual(['granted']);
    // The lottery voucher won at Black Diamond (if any) goes; one won at Bronze stays.
    for (const draw of draws.filter((d) => d.won)) {
      expect(after.find((e) => e.id === draw.entitlementId)?.status).toBe(
        draw.tier === 'BLACK_DIAMOND' ? 'revoked' : 'granted',
      );
    }

    await h.waitUntilPublished();
    const revoked = h.published(m, 'revoked');
    const expectedRevoked = after.filter((e) => e.status === 'revoked');
    expect(revoked.map((r) => r.benefitId).sort()).toEqual(expectedRevoked.map((e) => e.benefitId).sort());
    expect(revoked.every((r) => r.details.revokedBy === clawback.eventId && r.tier === 'SILVER')).toBe(true);
  });

  it('when a downgrade is a monthly evaluation, then issued vouchers and coupons stay (only a clawback takes them back)', async () => {
    const m = uniqueId('m');
    await h.produce([
      firstAssignment(m, 'BRONZE'),
      tierChange(m, 'BRONZE', 'PLATINUM', 2),
      tierChange(m, 'PLATINUM', 'SILVER', 3, { reason: 'monthly-evaluation' }),
    ]);
    const after = await waitFor(
      async () => {
        const view = await h.entitlements(m);
        return view.tier === 'SILVER' ? view.entitlements : undefined;
      },
      { description: 'the evaluation downgrade' },
    );
    for (const id of ['platinum-arrival-gift', 'gold-arrival-gift', 'fliggy-monthly-travel-coupon']) {
      expect(after.find((e) => e.benefitId === id)?.status).toBe('granted');
    }
    expect(after.find((e) => e.benefitId === 'eleme-free-delivery')?.status).toBe('revoked');
  });
});
