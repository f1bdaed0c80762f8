import {
  DEFAULT_RULE_SET,
  explainTierChange,
  type MemberTier,
  type TierChange,
  unseenMember,
} from '@taobi/rules';
import { memberTierView } from './member-view';
import { tierChangedEventId, tierChangedRecord } from './tier-changed';

const NOW = new Date('2026-11-23T04:00:00.000Z');
const DEC_8 = '2026-12-07T16:00:00.000Z';
const JAN_8 = '2027-01-07T16:00:00.000Z';

function member(overrides: Partial<MemberTier>): MemberTier {
  return { ...unseenMember('m-1', 300, '2026-11-01T00:00:00.000Z'), scoreVersion: 3, ...overrides };
}

describe('the member tier view', () => {
  it('when a Gold member is below the threshold with points expiring, then it shows the pending downgrade and what to earn', () => {
    const view = memberTierView(
      member({
        tier: 'GOLD',
        score: 650,
        downgradePending: true,
        expiring: { points: 50, evaluationAt: DEC_8 },
      }),
      { ruleSet: DEFAULT_RULE_SET, now: NOW, seen: true },
    );
    expect(view).toEqual({
      memberId: 'm-1',
      tier: 'GOLD',
      score: 650,
      since: '2026-11-01T00:00:00.000Z',
      next: { tier: 'PLATINUM', threshold: 1000, pointsNeeded: 350 },
      downgradePending: true,
      keep: {
        tier: 'GOLD',
        threshold: 700,
        evaluationAt: DEC_8,
        expiringPoints: 50,
        forecastScore: 600,
        pointsNeeded: 100,
      },
      scoreVersion: 3,
      ruleVersion: DEFAULT_RULE_SET.version,
    });
  });

  it('when an admin already ran December’s evaluation, then the next one shown is January’s and the expiry is not counted twice', () => {
    const view = memberTierView(
      member({
        tier: 'GOLD',
        score: 760,
        expiring: { points: 50, evaluationAt: DEC_8 },
        lastEvaluationAsOf: DEC_8,
      }),
      { ruleSet: DEFAULT_RULE_SET, now: NOW, seen: true },
    );
    expect(view).toMatchObject({
      score: 710,
      keep: { evaluationAt: JAN_8, expiringPoints: 0, pointsNeeded: 0 },
    });
  });

  it('when the member was never seen, then since is null', () => {
    const view = memberTierView(unseenMember('m-2', 300, NOW.toISOString()), {
      ruleSet: DEFAULT_RULE_SET,
      now: NOW,
      seen: false,
    });
    expect(view).toMatchObject({ tier: 'BRONZE', score: 300, since: null, next: { pointsNeeded: 100 } });
  });
});

describe('tier-changed records', () => {
  it('when the same cause is seen again, then the eventId is the same; different causes give different ids', () => {
    const up = { memberId: 'm-1', cause: { kind: 'score', version: 7 } } as const;
    const down = {
      memberId: 'm-1',
      cause: { kind: 'evaluation', asOf: '2026-12-08T00:00:00+08:00' },
    } as const;
    expect(tierChangedEventId(up)).toBe('tier:m-1:score:7');
    expect(tierChangedEventId(down)).toBe(`tier:m-1:evaluation:${DEC_8}`);
    expect(tierChangedEventId({ ...down, cause: { kind: 'evaluation', asOf: DEC_8 } })).toBe(
      tierChangedEventId(down),
    );
  });

  it('when an evaluation downgrade is turned into a record, then it is a valid tier-changed record carrying its decision: threshold, window and the months that left', () => {
    const change: TierChange = {
      memberId: 'm-1',
      previousTier: 'GOLD',
      tier: 'SILVER',
      direction: 'down',
      reason: 'monthly-evaluation',
      score: 650,
      scoreVersion: 4,
      occurredAt: DEC_8,
      cause: { kind: 'evaluation', asOf: DEC_8 },
    };
    const before = member({
      tier: 'GOLD',
      score: 700,
      scoreVersion: 4,
      expiring: { points: 50, evaluationAt: DEC_8 },
      months: [
        { month: '2025-12', points: 50 },
        { month: '2026-06', points: 350 },
      ],
    });
    const record = tierChangedRecord(change, explainTierChange(change, before, DEFAULT_RULE_SET));
    expect(record).toEqual({
      eventId: `tier:m-1:evaluation:${DEC_8}`,
      schemaVersion: 1,
      memberId: 'm-1',
      occurredAt: DEC_8,
      previousTier: 'GOLD',
      tier: 'SILVER',
      direction: 'down',
      score: 650,
      scoreVersion: 4,
      reason: 'monthly-evaluation',
      decision: {
        at: DEC_8,
        from: 'GOLD',
        to: 'SILVER',
        direction: 'down',
        reason: 'monthly-evaluation',
        score: 650,
        scoreVersion: 4,
        threshold: 700,
        ruleVersion: '2026.1',
        evaluationAsOf: DEC_8,
        windowFrom: '2026-01',
        windowTo: '2026-12',
        expiredMonths: [{ month: '2025-12', points: 50 }],
      },
    });
  });
});
