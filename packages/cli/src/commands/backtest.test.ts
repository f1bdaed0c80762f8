import { progressBar } from '../report';
import { type BacktestResult, renderBacktest } from './backtest';

const side = (tiers: number[], vip88Eligible: number, ruleVersion: string) => ({
  ruleVersion,
  catalogueVersion: '2026.1',
  evaluationAt: '2026-11-07T16:00:00.000Z',
  tiers: {
    BRONZE: tiers[0] ?? 0,
    SILVER: tiers[1] ?? 0,
    GOLD: tiers[2] ?? 0,
    PLATINUM: tiers[3] ?? 0,
    DIAMOND: tiers[4] ?? 0,
    BLACK_DIAMOND: tiers[5] ?? 0,
  },
  vip88Eligible,
  benefits: {},
});

const result: BacktestResult = {
  id: 'b-1',
  name: 'platinum 1200',
  status: 'completed',
  progress: { done: 1000, total: 1000 },
  asOf: '2026-11-30T00:00:00.000Z',
  createdAt: '2026-11-30T01:00:00.000Z',
  completedAt: '2026-11-30T01:05:00.000Z',
  baseline: side([700, 150, 60, 70, 15, 5], 90, '2026.1'),
  candidate: side([700, 150, 98, 32, 15, 5], 52, '2026.1-what-if'),
  moves: { up: 0, down: 38, byPair: { 'PLATINUM->GOLD': 38 } },
  liability: {
    'fliggy-monthly-travel-coupon': { before: 90 * 2000, after: 52 * 2000, unitCost: 2000, unit: 'fen' },
    'eleme-free-delivery': { before: 90, after: 52, unit: 'grants' },
  },
  samples: [
    { memberId: 'm-7', before: { score: 1050, tier: 'PLATINUM' }, after: { score: 1050, tier: 'GOLD' } },
  ],
};

describe('the backtest report', () => {
  const text = renderBacktest(result);

  it('when a backtest completed, then each tier shows before, after and the change, with a bar chart per side', () => {
    expect(text).toMatch(/^ {3}GOLD +60 +98 +\+38$/m);
    expect(text).toMatch(/^ {3}PLATINUM +70 +32 +-38$/m);
    expect(text).toMatch(/^ {3}BRONZE +700 +700 +0$/m);
    expect(text).toContain('before (2026.1)');
    expect(text).toContain('after (2026.1-what-if)');
    expect(text).toMatch(/^ {3}PLATINUM +█+ +32 +3\.2%$/m);
  });

  it('when members move, then the moves, the 88VIP eligibility and the liability in CNY are listed', () => {
    expect(text).toContain('2. Moves: 38 down, 0 up');
    expect(text).toMatch(/^ {3}PLATINUM->GOLD +38$/m);
    expect(text).toContain('3. 88VIP at the nominal price: 90 -> 52 members (-38)');
    expect(text).toMatch(/^ {3}fliggy-monthly-travel-coupon +20\.00 +1,800\.00 +1,040\.00 +-760\.00$/m);
    expect(text).toMatch(/^ {3}eleme-free-delivery +- +90 +52 +-38$/m);
    expect(text).toMatch(/^ {3}m-7 +PLATINUM 1,050 +GOLD 1,050$/m);
  });

  it('when progress is drawn, then the bar fills with the share done', () => {
    expect(progressBar(450, 1000, 'members', 10)).toBe('[█████░░░░░]  45%  450 / 1,000 members');
    expect(progressBar(0, 0, 'members', 4)).toBe('[░░░░]   0%  0 / 0 members');
  });
});
