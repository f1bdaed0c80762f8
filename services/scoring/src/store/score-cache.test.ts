import type { StoredScore } from '../domain/score-view';
import { packedScore } from './score-cache';

describe('the packed score of the Redis read model', () => {
  const score: StoredScore = {
    memberId: 'm-1',
    version: 7,
    score: 812,
    breakdown: { base: 100, ecommerce: 500, food: 12, travel: 0, mobility: 200 },
    windowFrom: '2025-12',
    ruleVersion: '2026.1',
    updatedAt: '2026-11-30T05:59:12.345Z',
    expiringAtNextEvaluation: { points: 40, evaluationAt: '2026-12-07T16:00:00.000Z' },
  };

  it('when a score is packed and unpacked, then it comes back equal, and the text is short', () => {
    const text = packedScore.encode(score);
    expect(packedScore.decode(text, { id: 'm-1', version: 7 })).toEqual(score);
    expect(text.length).toBeLessThan(JSON.stringify(score).length / 2);
  });

  it('when a breakdown has a further source and no expiring outlook, then both survive', () => {
    const further: StoredScore = {
      ...score,
      breakdown: { ...score.breakdown, grocery: 33 },
      expiringAtNextEvaluation: null,
    };
    expect(packedScore.decode(packedScore.encode(further), { id: 'm-1', version: 7 })).toEqual(further);
  });
});
