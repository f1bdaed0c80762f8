import { createHash } from 'node:crypto';
import { TIERS } from '@taobi/contracts';
import fc from 'fast-check';
import { DEFAULT_CATALOGUE, welcomeGift } from './catalogue';
import { commitmentOf, drawLottery, drawValue, newSeed } from './lottery';

const { odds } = welcomeGift(DEFAULT_CATALOGUE).fulfilment;
const campaign = '2026-W47';
const seedOf = (i: number) => createHash('sha256').update(`statistical-test-${i}`).digest('hex');

describe('the welcome-gift lottery', () => {
  it.each(TIERS)(
    'when %s members draw 20,000 times, then the win rate is within 4 standard deviations of the odds',
    (tier) => {
      const draws = 20_000;
      let wins = 0;
      for (let i = 0; i < draws; i += 1) {
        if (drawLottery({ seed: seedOf(i), memberId: `m-${i}`, tier, odds, campaign }).won) wins += 1;
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
      const v = drawValue({ seed: seedOf(i), memberId: 'm-1', tier: 'GOLD', campaign });
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
        const first = drawLottery({ seed, memberId, tier, odds, campaign });
        const again = drawLottery({ seed, memberId, tier, odds, campaign });
        expect(again).toEqual(first);
        expect(first.value).toBeGreaterThanOrEqual(0);
        expect(first.value).toBeLessThan(1);
        expect(first.won).toBe(first.value < odds[tier]);
      }),
    );
  });

  it('when the same seed draws for another member, tier or campaign, then the value differs (the message binds them)', () => {
    const seed = seedOf(1);
    const a = drawValue({ seed, memberId: 'm-a', tier: 'GOLD', campaign });
    expect(drawValue({ seed, memberId: 'm-b', tier: 'GOLD', campaign })).not.toBe(a);
    expect(drawValue({ seed, memberId: 'm-a', tier: 'PLATINUM', campaign })).not.toBe(a);
    expect(drawValue({ seed, memberId: 'm-a', tier: 'GOLD', campaign: '2026-W48' })).not.toBe(a);
  });

  it('when the seed is not 32 hex bytes, then the draw is refused', () => {
    expect(() => drawValue({ seed: 'abc', memberId: 'm', tier: 'GOLD', campaign })).toThrow(RangeError);
    expect(() => commitmentOf('AB'.repeat(32))).toThrow(RangeError);
  });

  it('when the reference vectors are drawn, then the commitment and values are the documented ones (for auditors re-implementing them)', () => {
    const zero = '00'.repeat(32);
    expect(commitmentOf(zero)).toBe('66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925');
    // HMAC-SHA256(key = 32 zero bytes, "taobi.lottery.v2|2026-W47|m-10001|PLATINUM") starts 8ae98e298907.
    const lost = drawLottery({ seed: zero, campaign, memberId: 'm-10001', tier: 'PLATINUM', odds });
    expect(lost.value).toBe(0x8ae98e298907 / 2 ** 48);
    expect(lost.value).toBeCloseTo(0.5426262714, 10);
    expect(lost.won).toBe(false);
    const won = drawLottery({ seed: zero, campaign, memberId: 'm-10002', tier: 'PLATINUM', odds });
    expect(won.value).toBe(0x173d28dee729 / 2 ** 48);
    expect(won.won).toBe(true);
  });
});
