import { benefitsAt, DEFAULT_CATALOGUE, grantedOnTierChange, minTierOf } from '@taobi/benefits';
import { type Tier, tierRank } from '@taobi/contracts';
import { uniqueId, waitFor } from '@taobi/tests';
import { CHECKOUT, Harness, LOTTERY, tierChange } from './harness';

const catalogue = DEFAULT_CATALOGUE;
/** What a member at `tier` holds after tier changes: every grantable benefit up to the tier. */
const grantableAt = (tier: Tier) =>
  benefitsAt(catalogue, tier)
    .filter(grantedOnTierChange)
    .map((b) => b.id)
    .sort();
const statusIdsAbove = (tier: Tier) =>
  catalogue.benefits
    .filter((b) => b.kind === 'status' && tierRank(minTierOf(b) ?? 'BRONZE') > tierRank(tier))
    .map((b) => b.id)
    .sort();

/** The lottery's voucher comes from winning draws, not from the tier: left out where tiers are compared. */
const fromTier = <T extends { benefitId: string }>(list: T[]) => list.filter((e) => e.benefitId !== LOTTERY);

describe('entitlements from tier changes (real Kafka and Postgres)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start();
  });
  afterAll(async () => {
    await h.close();
  });

  it('when a member climbs Bronze to Black Diamond (skipping Gold) and is downgraded at the evaluation, then each benefit is granted exactly once and the status benefits above the new tier are revoked, used ones kept', async () => {
    const m = uniqueId('m');
    const climb: [Tier, Tier][] = [
      ['BRONZE', 'SILVER'],
      ['SILVER', 'PLATINUM'],
      ['PLATINUM', 'DIAMOND'],
      ['DIAMOND', 'BLACK_DIAMOND'],
    ];
    for (const [index, [from, to]] of climb.entries()) {
      await h.produce([tierChange(m, from, to, index + 1)]);
      const held = await waitFor(
        async () => {
          const { tier, entitlements } = await h.entitlements(m);
          return tier === to ? fromTier(entitlements) : undefined;
        },
        { description: `${m} to reach ${to}` },
      );
      // Every benefit of every tier up to this one (Gold's too, though Gold was skipped), once each.
      expect(held.map((e) => e.benefitId).sort()).toEqual(grantableAt(to));
      expect(held.every((e) => e.status === 'granted')).toBe(true);
    }

    const rows = await h.pool.query<{ benefit_id: string; n: number }>(
      'SELECT benefit_id, count(*)::int AS n FROM entitlement.grants WHERE member_id = $1 AND benefit_id <> $2 GROUP BY benefit_id',
      [m, LOTTERY],
    );
    expect(rows.rows.every((r) => r.n === 1)).toBe(true);
    expect(rows.rows).toHaveLength(grantableAt('BLACK_DIAMOND').length);
    const granted = await h.reader.waitForCount(
      grantableAt('BLACK_DIAMOND').length,
      (r) => r.key === m && r.value.action === 'granted' && r.value.benefitId !== LOTTERY,
    );
    expect(new Set(granted.map((r) => r.value.eventId)).size).toBe(granted.length);
    expect(h.published(m, 'eligibility-changed')).toHaveLength(1);
    expect(h.published(m, 'eligibility-changed')[0]).toMatchObject({
      benefitId: 'vip88',
      benefitKind: 'membership',
      tier: 'PLATINUM',
      details: { eligibleForNominalPrice: true, price: { amount: 8800, currency: 'CNY' } },
    });
    const coupon = granted.find((r) => r.value.benefitId === 'tmall-monthly-coupon')?.value;
    expect(coupon).toMatchObject({ benefitKind: 'periodic', period: '2026-11', tier: 'PLATINUM' });

    // The member claims the Marriott status match and spends this month's Black Diamond coupon pack.
    const { entitlements } = await h.entitlements(m);
    for (const benefitId of ['fliggy-marriott-status', 'black-diamond-monthly-coupon-pack']) {
      const id = entitlements.find((e) => e.benefitId === benefitId)?.id;
      const used = await h.inject({
        method: 'POST',
        url: `/v1/members/${m}/entitlements/${id}/use`,
        headers: CHECKOUT,
      });
      expect(used.statusCode).toBe(200);
      expect(used.json()).toMatchObject({ status: 'used' });
    }

    await h.produce([tierChange(m, 'BLACK_DIAMOND', 'PLATINUM', 5, { reason: 'monthly-evaluation' })]);
    const after = await waitFor(
      async () => {
        const view = await h.entitlements(m);
        return view.tier === 'PLATINUM' ? fromTier(view.entitlements) : undefined;
      },
      { description: 'the downgrade to apply' },
    );
    const statusOf = Object.fromEntries(after.map((e) => [e.benefitId, e.status]));
    const revoked = statusIdsAbove('PLATINUM').filter((id) => id !== 'fliggy-marriott-status');
    for (const id of revoked) expect(statusOf[id]).toBe('revoked');
    expect(statusOf['fliggy-marriott-status']).toBe('used');
    expect(statusOf['black-diamond-monthly-coupon-pack']).toBe('used');
    // Coupons and vouchers already issued are kept; Platinum's status benefits stay.
    expect(statusOf['airport-lounge-monthly-pass']).toBe('granted');
    expect(statusOf['black-diamond-arrival-gift']).toBe('granted');
    expect(statusOf['eleme-free-delivery']).toBe('granted');
    expect(after).toHaveLength(grantableAt('BLACK_DIAMOND').length);

    const revokedRecords = await h.reader.waitForCount(
      revoked.length,
      (r) => r.key === m && r.value.action === 'revoked',
    );
    expect(revokedRecords.map((r) => r.value.benefitId).sort()).toEqual(revoked);
    expect(revokedRecords.every((r) => r.value.tier === 'PLATINUM' && r.value.benefitKind === 'status')).toBe(
      true,
    );
    expect(h.published(m, 'used')).toHaveLength(2);
    // Black Diamond to Platinum does not cross the 88VIP line: no second eligibility change.
    expect(h.published(m, 'eligibility-changed')).toHaveLength(1);
  });

  it('when a member is first seen entering Gold, then Bronze and Silver benefits are granted too, and re-entering a tier later grants its status benefits again', async () => {
    const m = uniqueId('m');
    await h.produce([
      tierChange(m, 'BRONZE', 'GOLD', 3),
      tierChange(m, 'GOLD', 'SILVER', 4, { reason: 'monthly-evaluation' }),
      tierChange(m, 'SILVER', 'GOLD', 5),
    ]);
    await h.waitUntilConsumed();
    const { tier, entitlements } = await h.entitlements(m);
    expect(tier).toBe('GOLD');
    const service = entitlements.filter((e) => e.benefitId === 'priority-customer-service');
    expect(service.map((e) => e.status).sort()).toEqual(['granted', 'revoked']);
    // Periodic and one-time benefits were granted once for the period, whatever the moves.
    for (const id of ['flash-sale-weekly-coupon', 'tmall-monthly-coupon', 'ride-hailing-weekly-coupon']) {
      expect(entitlements.filter((e) => e.benefitId === id)).toHaveLength(1);
    }
    expect(entitlements.filter((e) => e.benefitId === 'free-return-shipping')).toHaveLength(1);
    // Welcome gifts: each tier's once per member, ever (Silver's too, though it was skipped at first).
    for (const id of ['silver-arrival-gift', 'gold-arrival-gift']) {
      expect(entitlements.filter((e) => e.benefitId === id).map((e) => e.kind)).toEqual(['one-time']);
    }
  });
});
