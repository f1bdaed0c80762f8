import { TIER, TIERS } from '../../../test/fixtures';
import { nextTierProgress } from './progress';

describe('progress to the next tier', () => {
  it("when the member is between two thresholds, then the bar runs over the band and what is left is the tier API's pointsNeeded", () => {
    expect(nextTierProgress(TIER, TIERS)).toEqual({
      next: 'PLATINUM',
      value: 214,
      max: 300,
      pointsNeeded: 86,
      percent: 71,
    });
  });

  it('when the score fell below the tier (a downgrade pending), then the bar is empty rather than negative', () => {
    const pending = { ...TIER, score: 650, next: { tier: 'PLATINUM', threshold: 1000, pointsNeeded: 350 } };
    expect(nextTierProgress(pending, TIERS)).toMatchObject({
      value: 0,
      max: 300,
      pointsNeeded: 350,
      percent: 0,
    });
  });

  it('when the member is at the top tier, then the bar is full and there is no next tier', () => {
    const top = { ...TIER, tier: 'BLACK_DIAMOND', score: 6000, next: null };
    expect(nextTierProgress(top, TIERS)).toEqual({ value: 1, max: 1, pointsNeeded: 0, percent: 100 });
  });
});
