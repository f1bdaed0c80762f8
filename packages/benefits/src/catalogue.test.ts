import { TIERS } from '@taobi/contracts';
import {
  benefitsAt,
  benefitUnitCost,
  DEFAULT_CATALOGUE,
  holdersByBenefit,
  vip88Bundle,
  welcomeGift,
} from './catalogue';
import { CatalogueError, minTierOf, parseCatalogue } from './catalogue-schema';
import data from './data/catalogue-2026.2.json';

const clone = () => JSON.parse(JSON.stringify(data)) as typeof data;

describe('the benefit catalogue', () => {
  it('when the shipped catalogue is parsed, then it is valid and versioned', () => {
    expect(DEFAULT_CATALOGUE.version).toBe('2026.2');
    expect(DEFAULT_CATALOGUE.vip88).toMatchObject({ nominalPriceFen: 8800, standardPriceFen: 88800 });
  });

  it('when a member is Black Diamond, then they hold at least 14 benefits, and each tier holds more than the one below', () => {
    const counts = TIERS.map((tier) => benefitsAt(DEFAULT_CATALOGUE, tier).length);
    expect(counts[counts.length - 1]).toBeGreaterThanOrEqual(14);
    for (let i = 1; i < counts.length; i += 1) expect(counts[i]).toBeGreaterThan(counts[i - 1] as number);
  });

  it('when the seeds name Black Diamond benefits, then the catalogue has them at Black Diamond', () => {
    const ids = benefitsAt(DEFAULT_CATALOGUE, 'BLACK_DIAMOND')
      .filter((b) => minTierOf(b) === 'BLACK_DIAMOND')
      .map((b) => b.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'concierge-customer-service',
        'value-channel-discount',
        'fliggy-marriott-status',
        'fliggy-hilton-status',
        'fliggy-premium-travel-membership',
      ]),
    );
  });

  it('when the articles tie a benefit to 88VIP (Freshippo, Youku, Ele.me, more coupons), then it is in the 88VIP bundle, not a tier', () => {
    const bundle = vip88Bundle(DEFAULT_CATALOGUE);
    expect(bundle.map((b) => b.id)).toEqual(
      expect.arrayContaining([
        'freshippo-membership',
        'vip88-youku-vip',
        'vip88-eleme-svip',
        'vip88-monthly-coupon-pack',
      ]),
    );
    for (const tier of TIERS) {
      const held = benefitsAt(DEFAULT_CATALOGUE, tier).map((b) => b.id);
      expect(held).not.toContain('freshippo-membership');
      expect(benefitsAt(DEFAULT_CATALOGUE, tier, { vip88: true }).length).toBe(held.length + bundle.length);
    }
    const partners = JSON.stringify(DEFAULT_CATALOGUE.benefits.filter((b) => minTierOf(b) !== null));
    expect(partners).not.toMatch(/Freshippo|Youku/);
  });

  it('when the welcome gift odds are read, then Platinum and above are clearly higher than Gold', () => {
    const { odds } = welcomeGift(DEFAULT_CATALOGUE).fulfilment;
    expect(odds.PLATINUM).toBeGreaterThanOrEqual(2 * odds.GOLD);
  });

  it('when two benefits share an id, then the catalogue is refused naming the id', () => {
    const bad = clone();
    bad.benefits.push({ ...bad.benefits[1] } as (typeof bad.benefits)[number]);
    const index = bad.benefits.length - 1;
    expect(() => parseCatalogue(bad)).toThrow(
      new RegExp(`benefits\\.${index}\\.id: duplicate id flash-sale-weekly-coupon`),
    );
  });

  it('when the lottery odds fall with tier, then the catalogue is refused naming the tier', () => {
    const bad = clone();
    const lottery = bad.benefits[0] as { fulfilment: { odds: Record<string, number> } };
    lottery.fulfilment.odds.DIAMOND = 0.1;
    expect(() => parseCatalogue(bad)).toThrow(/odds\.DIAMOND: must not be lower than PLATINUM/);
  });

  it.each([
    [
      'a periodic benefit without a cadence',
      (c: ReturnType<typeof clone>) => delete (c.benefits[1] as { cadence?: string }).cadence,
    ],
    [
      'an unknown tier',
      (c: ReturnType<typeof clone>) =>
        ((c.benefits[2] as { audience: { minTier: string } }).audience.minTier = 'TITANIUM'),
    ],
    [
      'an audience of both a tier and 88VIP',
      (c: ReturnType<typeof clone>) =>
        ((c.benefits[2] as { audience: unknown }).audience = { minTier: 'GOLD', vip88: true }),
    ],
    [
      'the lottery for 88VIP holders only',
      (c: ReturnType<typeof clone>) => ((c.benefits[0] as { audience: unknown }).audience = { vip88: true }),
    ],
    [
      'an unknown field',
      (c: ReturnType<typeof clone>) => ((c.benefits[3] as Record<string, unknown>).colour = 'red'),
    ],
    [
      'a status benefit with a coupon',
      (c: ReturnType<typeof clone>) =>
        ((c.benefits.find((b) => b.kind === 'status') as { fulfilment: unknown }).fulfilment =
          c.benefits.find((b) => b.kind === 'periodic')?.fulfilment),
    ],
    [
      'a nominal price above the standard one',
      (c: ReturnType<typeof clone>) => (c.vip88.nominalPriceFen = 99900),
    ],
  ])('when the catalogue has %s, then it is refused', (_name, spoil) => {
    const bad = clone();
    spoil(bad);
    expect(() => parseCatalogue(bad)).toThrow(CatalogueError);
  });

  it('when members are counted by tier, then each benefit is held by the members of its tier and above, and 88VIP from Platinum', () => {
    const tiers = { BRONZE: 100, SILVER: 50, GOLD: 20, PLATINUM: 8, DIAMOND: 3, BLACK_DIAMOND: 1 };
    const { vip88Eligible, benefits } = holdersByBenefit(DEFAULT_CATALOGUE, tiers);
    expect(vip88Eligible).toBe(12);
    expect(benefits['flash-sale-weekly-coupon']).toBe(182);
    expect(benefits['free-return-shipping']).toBe(82);
    expect(benefits['fliggy-monthly-travel-coupon']).toBe(12);
    expect(benefits['concierge-customer-service']).toBe(1);
    expect(Object.keys(benefits)).toEqual(DEFAULT_CATALOGUE.benefits.map((b) => b.id));
  });

  it('when a benefit states a unit cost, then that is its cost; a coupon without one costs its face value; others are uncosted', () => {
    const catalogue = clone();
    const lounge = catalogue.benefits.find((b) => b.id === 'airport-lounge-monthly-pass') as Record<
      string,
      unknown
    >;
    lounge.unitCostFen = 12_000;
    const parsed = parseCatalogue(catalogue);
    const cost = (id: string) => benefitUnitCost(parsed.benefits.find((b) => b.id === id) as never);
    expect(cost('airport-lounge-monthly-pass')).toBe(12_000);
    // The catalogue's 10 CNY off Tmall coupon.
    expect(cost('tmall-monthly-coupon')).toBe(1000);
    expect(cost('free-return-shipping')).toBeUndefined();
    lounge.unitCostFen = -1;
    expect(() => parseCatalogue(catalogue)).toThrow(/benefits\.\d+\.unitCostFen/);
  });
});
