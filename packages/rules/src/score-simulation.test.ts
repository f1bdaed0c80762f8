import { DEFAULT_RULE_SET } from './rule-set';
import { simulateSpread } from './score-simulation';

describe('the default numbers on a simulated population', () => {
  it('when a year of skewed spending is scored, then most members are Bronze to Gold and few are Platinum or above', () => {
    const report = simulateSpread(DEFAULT_RULE_SET.score, DEFAULT_RULE_SET.tiers.thresholds, {
      members: 4000,
      seed: 7,
    });
    const { BRONZE, SILVER, GOLD, PLATINUM, DIAMOND, BLACK_DIAMOND } = report.shares;
    expect(BRONZE + SILVER + GOLD).toBeGreaterThan(0.85);
    expect(BRONZE).toBeGreaterThan(0.2);
    expect(GOLD).toBeGreaterThan(0.05);
    expect(PLATINUM + DIAMOND + BLACK_DIAMOND).toBeGreaterThan(0.03);
    expect(PLATINUM + DIAMOND + BLACK_DIAMOND).toBeLessThan(0.12);
    expect(DIAMOND + BLACK_DIAMOND).toBeLessThan(0.02);
    expect(BLACK_DIAMOND).toBeLessThan(0.002);
    // Higher tiers are reached by spending more, not by chance.
    expect(report.meanSpendYuan.GOLD).toBeGreaterThan(report.meanSpendYuan.SILVER);
    expect(report.meanSpendYuan.PLATINUM).toBeGreaterThan(report.meanSpendYuan.GOLD);
  });
});
