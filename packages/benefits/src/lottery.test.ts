import { createHash } from 'node:crypto';
import { TIERS } from '@taobi/contracts';
import fc from 'fast-check';
import { DEFAULT_CATALOGUE, welcomeGift } from './catalogue';
import { drawValue, drawWelcomeGift, newSeed } from './lottery';

const { odds } = welcomeGift(DEFAULT_CATALOGUE).fulfilment;
const version = DEFAULT_CATALOGUE.version;
const seedOf = (i: number) => createHash('sha256').update(`statistical-test-${i}`).digest('hex');

describe('the welcome-gift lottery', () => {
  it.each(TIERS)(
    'when %s members draw 20,000 times, then the win rate is within 4 standard deviations of the odds',
    (tier) => {
      const draws = 20_000;
      let wins = 0;
      for (let i = 0; i < draws; i += 1) {
        if (
          drawWelcomeGift({ seed: seedOf(i), memberId: `m-${i}`, tier, odds, catalogueVersion: version }).won
        )
          wins += 1;
      }
      const p = odds[tier];
      const sigma = Math.sqrt((p * (1 - p)) / draws);
      const rate = wins / draws;
      expect(Math.abs(rate - p)).toBeLessThanOrEqual(4 * sigma);
    },
  );

  it('when draw values are bucketed, then each decile holds about a tenth (chi-square, 9 d.f., p > 0.001)', () => {
    const buckets = new Array<number>(10).fill(0);
    const n = 50_000;
    for (let i = 0; i < n; i += 1) {
      const v = drawValue({ seed: seedOf(i), memberId: 'm-1', tier: 'GOLD', catalogueVersion: version });
      buckets[Math.floor(v * 10)] = (buckets[Math.floor(v * 10)] ?? 0) + 1;
    }
    const expected = n / 10;
    const chi = buckets.reduce((sum, observed) => sum + (observed - expected) ** 2 / expected, 0);
    expect(chi).toBeLessThan(27.88);
  });

  it('when a draw is re-run from its recorded seed, then it gives the same value and outcome', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TIERS), fc.string({ minLength: 1, maxLength: 20 }), (tier, memberId) => {
        const seed = newSeed();
        const first = drawWelcomeGift({ seed, memberId, tier, odds, catalogueVersion: version });
        const again = drawWelcomeGift({ seed, memberId, tier, odds, catalogueVersion: version });
        expect(again).toEqual(first);
        expect(first.value).toBeGreaterThanOrEqual(0);
        expect(first.value).toBeLessThan(1);
        expect(first.won).toBe(first.value < odds[tier]);
      }),
    );
  });

  it('when the same seed is used for another member, then the draw value differs (the seed is bound to its member)', () => {
    const seed = seedOf(1);
    const a = drawValue({ seed, memberId: 'm-a', tier: 'GOLD', catalogueVersion: version });
    const b = drawValue({ seed, memberId: 'm-b', tier: 'GOLD', catalogueVersion: version });
    expect(a).not.toBe(b);
  });

  it('when the seed is not 32 hex bytes, then the draw is refused', () => {
    expect(() => drawValue({ seed: 'abc', memberId: 'm', tier: 'GOLD', catalogueVersion: version })).toThrow(
      RangeError,
    );
  });

  it('when the reference vector is drawn, then the value is the documented one (for auditors re-implementing it)', () => {
    // HMAC-SHA256(key = 32 zero bytes, "taobi.welcome-gift.v1|2026.1|m-10001|PLATINUM") starts fb14401a262e.
    const outcome = drawWelcomeGift({
      seed: '00'.repeat(32),
      memberId: 'm-10001',
      tier: 'PLATINUM',
      odds,
      catalogueVersion: '2026.1',
    });
    expect(outcome.value).toBe(0xfb14401a262e / 2 ** 48);
    expect(outcome.value).toBeCloseTo(0.98077774656, 10);
    expect(outcome.won).toBe(false);
  });
});
