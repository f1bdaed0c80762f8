import { TIERS, type Tier, tierRank } from '@taobi/contracts';
import fc from 'fast-check';
import { benefitsAt, DEFAULT_CATALOGUE, findBenefit, vip88Bundle } from './catalogue';
import { minTierOf } from './catalogue-schema';
import { planPeriodicIssue, planTierChange, planVip88Grants, type TierTransition } from './policy';
import { vip88Quote, vip88TermEnd } from './vip88';

const catalogue = DEFAULT_CATALOGUE;
const now = new Date('2026-11-20T02:00:00Z');
const tier = fc.constantFrom(...TIERS);
const move = (from: Tier, to: Tier, stint = 's1', occurredAt = now): TierTransition => ({
  from,
  to,
  stint,
  occurredAt,
});
const minRank = (id: string) =>
  tierRank(minTierOf(findBenefit(catalogue, id) ?? { audience: { minTier: 'BRONZE' } }) ?? 'BRONZE');
/** A tier benefit above `tier` (an 88VIP-bundle benefit is above no tier). */
const above = (b: Parameters<typeof minTierOf>[0], tier: Tier) => {
  const minTier = minTierOf(b);
  return minTier !== null && tierRank(minTier) > tierRank(tier);
};

describe('the tier-change policy', () => {
  it('when a member skips from Bronze to Gold, then Silver and Gold benefits are both planned', () => {
    const ids = planTierChange(catalogue, move('BRONZE', 'GOLD'), now).grants.map((g) => g.benefitId);
    expect(ids).toEqual(
      expect.arrayContaining([
        'free-return-shipping',
        'eleme-monthly-red-packet',
        'priority-customer-service',
        'tmall-monthly-coupon',
      ]),
    );
    expect(ids).not.toContain('eleme-free-delivery');
  });

  it('when any tier change is planned, then grants are exactly the grantable benefits of the new tier and revocations exactly the status benefits above it', () => {
    fc.assert(
      fc.property(tier, tier, (from, to) => {
        const plan = planTierChange(catalogue, move(from, to), now);
        const expected = benefitsAt(catalogue, to)
          .filter((b) => b.kind !== 'offer' && b.fulfilment.type !== 'lottery')
          .map((b) => b.id);
        expect(plan.grants.map((g) => g.benefitId).sort()).toEqual(expected.sort());
        for (const id of plan.revocations) {
          expect(findBenefit(catalogue, id)?.kind).toBe('status');
          expect(minRank(id)).toBeGreaterThan(tierRank(to));
        }
        const statusAbove = catalogue.benefits.filter((b) => b.kind === 'status' && above(b, to));
        expect(plan.revocations.sort()).toEqual(statusAbove.map((b) => b.id).sort());
        // One key per benefit: a plan never grants the same benefit twice.
        expect(new Set(plan.grants.map((g) => g.benefitId)).size).toBe(plan.grants.length);
      }),
    );
  });

  it('when grants are planned, then status is keyed by stint, one-time by once, periodic by the period of the change', () => {
    const plan = planTierChange(catalogue, move('BRONZE', 'BLACK_DIAMOND', 'v7@1700'), now);
    const byId = Object.fromEntries(plan.grants.map((g) => [g.benefitId, g]));
    expect(byId['concierge-customer-service']).toMatchObject({
      grantKey: 'stint:v7@1700',
      period: null,
      expiresAt: null,
    });
    expect(byId['black-diamond-arrival-gift']).toMatchObject({ grantKey: 'once', period: null });
    expect(byId['tmall-monthly-coupon']).toMatchObject({ grantKey: '2026-11', period: '2026-11' });
    expect(byId['tmall-monthly-coupon']?.expiresAt?.toISOString()).toBe('2026-11-30T16:00:00.000Z');
    expect(byId['flash-sale-weekly-coupon']).toMatchObject({ grantKey: '2026-W47', period: '2026-W47' });
  });

  it('when a tier change is processed after its period ended, then no dead periodic coupon is planned', () => {
    const late = planTierChange(
      catalogue,
      move('BRONZE', 'GOLD', 's', new Date('2026-10-15T00:00:00Z')),
      now,
    );
    expect(late.grants.filter((g) => g.kind === 'periodic')).toEqual([]);
    expect(late.grants.some((g) => g.kind === 'status')).toBe(true);
  });

  it('when the same change is planned twice, then the plans are identical (replays are harmless)', () => {
    fc.assert(
      fc.property(tier, tier, fc.string({ minLength: 1, maxLength: 12 }), (from, to, stint) => {
        expect(planTierChange(catalogue, move(from, to, stint), now)).toEqual(
          planTierChange(catalogue, move(from, to, stint), now),
        );
      }),
    );
  });

  /**
   * A model of the store: unique (benefit, key), at most one held row per status benefit, revocation
   * only of held rows. Records reach the policy in order (the consumer drops stale ones first), each
   * possibly delivered twice. Any walk through the tiers then holds exactly the status benefits of
   * its final tier, never grants a (benefit, key) twice, and never revokes a used benefit.
   */
  it('when any sequence of tier changes is applied under the store rules, then nothing is granted twice and the held status set matches the final tier', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(tier, fc.boolean()), { minLength: 1, maxLength: 12 }),
        fc.boolean(),
        (walk, replay) => {
          const rows = new Map<string, { benefitId: string; kind: string; status: string }>();
          let current: Tier = 'BRONZE';
          const used: { status: string }[] = [];
          const steps = walk.flatMap(
            (step, index) =>
              (replay
                ? [
                    [index, step],
                    [index, step],
                  ]
                : [[index, step]]) as [number, [Tier, boolean]][],
          );
          steps.forEach(([index, [to, useSomething]]) => {
            const stint = `s${index}`;
            const plan = planTierChange(catalogue, move(current, to, stint), now);
            for (const id of plan.revocations) {
              for (const row of rows.values())
                if (row.benefitId === id && row.status === 'granted') row.status = 'revoked';
            }
            for (const grant of plan.grants) {
              const key = `${grant.benefitId}|${grant.grantKey}`;
              const held = [...rows.values()].some(
                (r) => r.benefitId === grant.benefitId && r.kind === 'status' && r.status === 'granted',
              );
              if (rows.has(key) || (grant.kind === 'status' && held)) continue;
              rows.set(key, { benefitId: grant.benefitId, kind: grant.kind, status: 'granted' });
            }
            if (useSomething) {
              const first = [...rows.values()].find((r) => r.status === 'granted');
              if (first) first.status = 'used';
            }
            used.push(...[...rows.values()].filter((r) => r.status === 'used'));
            current = to;
          });
          for (const row of used) expect(row.status).toBe('used');
          const heldStatus = [...rows.values()]
            .filter((r) => r.kind === 'status' && r.status === 'granted')
            .map((r) => r.benefitId);
          expect(new Set(heldStatus).size).toBe(heldStatus.length);
          for (const id of heldStatus) expect(minRank(id)).toBeLessThanOrEqual(tierRank(current));
          const expectedHeld = catalogue.benefits.filter(
            (b) => b.kind === 'status' && minTierOf(b) !== null && !above(b, current),
          );
          for (const benefit of expectedHeld) {
            const rowsOf = [...rows.values()].filter((r) => r.benefitId === benefit.id);
            expect(rowsOf.some((r) => r.status === 'granted' || r.status === 'used')).toBe(true);
          }
        },
      ),
    );
  });

  it('when a change crosses Platinum in either direction, then the 88VIP threshold is crossed, otherwise not', () => {
    fc.assert(
      fc.property(tier, tier, (from, to) => {
        const plan = planTierChange(catalogue, move(from, to), now);
        const above = (t: Tier) => tierRank(t) >= tierRank('PLATINUM');
        expect(plan.vip88.thresholdCrossed).toBe(above(from) !== above(to));
        expect(plan.vip88.quote.eligibleForNominalPrice).toBe(above(to));
      }),
    );
  });
});

describe('refund clawbacks', () => {
  it('when a refund takes a member back to Silver, then the vouchers, coupons and lottery vouchers of the tiers above are planned for revocation, nothing of Silver and below', () => {
    const plan = planTierChange(
      catalogue,
      { ...move('BLACK_DIAMOND', 'SILVER'), reason: 'refund-clawback' },
      now,
    );
    const ids = plan.clawbacks.map((c) => `${c.benefitId}${c.grantKey ? `@${c.grantKey}` : ''}`).sort();
    expect(ids).toEqual(
      [
        'gold-arrival-gift',
        'tmall-monthly-coupon',
        'ride-hailing-weekly-coupon',
        'platinum-arrival-gift',
        'fliggy-monthly-travel-coupon',
        'diamond-arrival-gift',
        'airport-lounge-monthly-pass',
        'black-diamond-arrival-gift',
        'black-diamond-monthly-coupon-pack',
        ...['GOLD', 'PLATINUM', 'DIAMOND', 'BLACK_DIAMOND'].map((t) => `welcome-gift-milk-tea@draw:${t}`),
      ].sort(),
    );
    // Status benefits go as on any downgrade; the plan still grants what Silver holds.
    expect(plan.revocations).toContain('concierge-customer-service');
    expect(plan.grants.map((g) => g.benefitId)).toContain('silver-arrival-gift');
  });

  it('when a downgrade is not a clawback, then nothing beyond status benefits is taken back', () => {
    fc.assert(
      fc.property(
        tier,
        tier,
        fc.constantFrom('monthly-evaluation', 'score-increase', undefined),
        (from, to, reason) => {
          expect(planTierChange(catalogue, { ...move(from, to), reason }, now).clawbacks).toEqual([]);
        },
      ),
    );
  });
});

describe('88VIP pricing', () => {
  it.each([
    ['BRONZE', 88800],
    ['GOLD', 88800],
    ['PLATINUM', 8800],
    ['BLACK_DIAMOND', 8800],
  ] as const)('when the member is %s, then 88VIP costs %i fen', (t, amount) => {
    expect(vip88Quote(catalogue.vip88, t).price).toEqual({ amount, currency: 'CNY' });
  });

  it('when a term starts, then it ends 12 calendar months later', () => {
    expect(vip88TermEnd(catalogue.vip88, new Date('2026-11-20T02:00:00Z')).toISOString()).toBe(
      '2027-11-20T02:00:00.000Z',
    );
  });
});

describe('the periodic issue', () => {
  it('when a week is issued, then only weekly benefits are listed, with the tier rank that gets each', () => {
    const issue = planPeriodicIssue(catalogue, '2026-W47');
    expect(issue?.period.cadence).toBe('weekly');
    expect(issue?.benefits).toEqual([
      { benefitId: 'flash-sale-weekly-coupon', minTierRank: 0 },
      { benefitId: 'ride-hailing-weekly-coupon', minTierRank: 2 },
    ]);
    expect(planPeriodicIssue(catalogue, '2026-11')?.benefits.map((b) => b.benefitId)).toContain(
      'black-diamond-monthly-coupon-pack',
    );
    expect(planPeriodicIssue(catalogue, 'nonsense')).toBeUndefined();
  });

  it('when a period is issued, then the 88VIP bundle benefits of its cadence are listed apart from the tier ones', () => {
    expect(planPeriodicIssue(catalogue, '2026-11')?.vip88Benefits).toEqual(['vip88-monthly-coupon-pack']);
    expect(planPeriodicIssue(catalogue, '2026-W47')?.vip88Benefits).toEqual([
      'vip88-weekly-eleme-red-packet',
    ]);
    expect(planPeriodicIssue(catalogue, '2026-11')?.benefits.map((b) => b.benefitId)).not.toContain(
      'vip88-monthly-coupon-pack',
    );
  });
});

describe('the 88VIP bundle', () => {
  const term = {
    activationId: 'a1',
    startsAt: now,
    expiresAt: new Date('2027-11-20T02:00:00Z'),
  };

  it('when a term is activated, then every bundle benefit is planned once: status for the term, periodic for the current period', () => {
    const grants = planVip88Grants(catalogue, term, now);
    expect(grants.map((g) => g.benefitId).sort()).toEqual(
      vip88Bundle(catalogue)
        .map((b) => b.id)
        .sort(),
    );
    const byId = Object.fromEntries(grants.map((g) => [g.benefitId, g]));
    expect(byId['freshippo-membership']).toEqual({
      benefitId: 'freshippo-membership',
      kind: 'status',
      grantKey: 'term:a1',
      period: null,
      expiresAt: term.expiresAt,
      endsWithTerm: true,
    });
    expect(byId['vip88-monthly-coupon-pack']).toMatchObject({
      grantKey: '2026-11@term:a1',
      period: '2026-11',
      expiresAt: new Date('2026-11-30T16:00:00.000Z'),
      endsWithTerm: false,
    });
  });

  it('when the term ends inside the current period, then the periodic coupon ends with the term', () => {
    const short = { ...term, expiresAt: new Date('2026-11-25T00:00:00Z') };
    const coupon = planVip88Grants(catalogue, short, now).find(
      (g) => g.benefitId === 'vip88-monthly-coupon-pack',
    );
    expect(coupon).toMatchObject({ expiresAt: short.expiresAt, endsWithTerm: true });
  });

  it('when any tier change is planned, then no bundle benefit is granted or revoked by it', () => {
    const bundle = new Set(vip88Bundle(catalogue).map((b) => b.id));
    fc.assert(
      fc.property(tier, tier, (from, to) => {
        const plan = planTierChange(catalogue, move(from, to), now);
        expect(plan.grants.filter((g) => bundle.has(g.benefitId))).toEqual([]);
        expect(plan.revocations.filter((id) => bundle.has(id))).toEqual([]);
      }),
    );
  });
});
