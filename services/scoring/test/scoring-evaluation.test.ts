import type { Service } from '@taobi/platform';
import { uniqueId, waitFor } from '@taobi/tests';
import {
  ADMIN,
  createStage,
  order,
  produce,
  produceAndFold,
  READ,
  type Stage,
  scoreRecordsOf,
  startScoring,
  waitForLedger,
  waitForOutboxPublished,
} from './harness';

describe('the monthly evaluation', () => {
  let stage: Stage;
  let service: Service;

  beforeAll(async () => {
    stage = await createStage();
    // The dates below are the test's calendar, whatever today is: scoring's clock stands in November 2026.
    service = await startScoring(stage, { now: () => new Date('2026-11-25T12:00:00+08:00') });
  });

  afterAll(async () => {
    await service?.stop();
    await stage?.close();
  });

  const score = async (memberId: string) =>
    (await service.app.inject({ url: `/v1/members/${memberId}/score`, headers: READ })).json();
  const evaluate = async (asOf: string) => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/v1/admin/evaluations',
      headers: ADMIN,
      payload: { asOf },
    });
    expect(response.statusCode).toBe(200);
    return response.json();
  };

  it('when the clock moves past a year, then old months expire at evaluations, exactly once even when run twice', async () => {
    const [member, recent] = [uniqueId('m'), uniqueId('m')];
    const events = [
      // 2025-12 (Shanghai) is the oldest month counted before the evaluation of 2026-12-08.
      order({ memberId: member, amount: 200_000, occurredAt: '2025-12-31T20:00:00+08:00' }),
      order({
        memberId: member,
        source: 'travel',
        category: 'hotel',
        amount: 80_000,
        occurredAt: '2026-03-10T12:00:00+08:00',
      }),
      order({ memberId: member, source: 'food', amount: 5_000, occurredAt: '2026-11-20T12:00:00+08:00' }),
      order({ memberId: recent, amount: 40_000, occurredAt: '2026-11-20T12:00:00+08:00' }),
    ];
    await produceAndFold(stage, events);
    // 2,000 CNY physical: 50 + 1; an 800 CNY hotel: 10 + 2; a 50 CNY meal: 1 + 1.
    const before = await score(member);
    expect(before).toMatchObject({ score: 365, window: { from: '2025-12', to: '2026-11' } });
    // The tier service forecasts the next evaluation as score - expiringAtNextEvaluation.points.
    expect(before.expiringAtNextEvaluation).toEqual({ points: 51, evaluationAt: '2026-12-07T16:00:00.000Z' });

    const december = await evaluate('2026-12-08T00:00:00+08:00');
    expect(december).toMatchObject({
      evaluationAt: '2026-12-07T16:00:00.000Z',
      windowFrom: '2026-01',
      alreadyCompleted: false,
      membersChanged: 1,
      pointsExpired: 51,
    });
    const afterDecember = await waitFor(async () => {
      const body = await score(member);
      return body.score === 314 ? body : undefined;
    });
    expect(afterDecember.score).toBe(before.score - before.expiringAtNextEvaluation.points);
    expect(afterDecember.breakdown).toEqual({ base: 300, ecommerce: 0, food: 2, travel: 12, mobility: 0 });
    expect(afterDecember.window.from).toBe('2026-01');
    expect((await score(recent)).score).toBe(311);

    // Running it again, and twice at once, changes nothing.
    const again = await Promise.all([
      evaluate('2026-12-08T00:00:00+08:00'),
      evaluate('2026-12-20T10:00:00+08:00'),
    ]);
    for (const summary of again) expect(summary).toMatchObject({ membersChanged: 0, pointsExpired: 0 });

    // A year later every month of 2026 up to November has left the window.
    const nextYear = await evaluate('2027-12-10T00:00:00+08:00');
    expect(nextYear).toMatchObject({
      evaluationAt: '2027-12-07T16:00:00.000Z',
      windowFrom: '2027-01',
      membersChanged: 2,
    });
    await evaluate('2027-12-10T00:00:00+08:00');
    // An evaluation older than the newest one never moves a window back.
    expect(await evaluate('2027-06-10T00:00:00+08:00')).toMatchObject({ membersChanged: 0 });
    await waitForOutboxPublished(stage);
    await waitFor(async () => (await score(member)).score === 300);
    expect((await score(recent)).score).toBe(300);

    // The relay has published them; wait until the test's reader has read them too.
    await stage.scoreChanged.waitForCount(
      2,
      (r) => r.key === member && r.value.reason === 'monthly-evaluation',
    );
    await stage.scoreChanged.waitForCount(
      1,
      (r) => r.key === recent && r.value.reason === 'monthly-evaluation',
    );
    const evaluations = scoreRecordsOf(stage, member).filter((r) => r.reason === 'monthly-evaluation');
    expect(evaluations.map((r) => [r.previousScore, r.score])).toEqual([
      [365, 314],
      [314, 300],
    ]);
    expect(evaluations.map((r) => r.window.from)).toEqual(['2026-01', '2027-01']);
    // After December the oldest points left are March's: they go at the evaluation of 2027-03-08,
    // and nothing goes before (so the forecast stays right while the score does not move).
    expect(evaluations[0]?.expiringAtNextEvaluation).toEqual({
      points: 12,
      evaluationAt: '2027-03-07T16:00:00.000Z',
    });
    expect(evaluations[1]?.expiringAtNextEvaluation).toEqual({
      points: 0,
      evaluationAt: '2028-01-07T16:00:00.000Z',
    });
    const recentFirst = scoreRecordsOf(stage, recent)[0];
    expect(recentFirst?.expiringAtNextEvaluation).toEqual({
      points: 11,
      evaluationAt: '2027-11-07T16:00:00.000Z',
    });
    expect(scoreRecordsOf(stage, recent).filter((r) => r.reason === 'monthly-evaluation')).toHaveLength(1);

    const history = (
      await service.app.inject({ url: `/v1/members/${member}/score/history`, headers: READ })
    ).json();
    expect(history.contributions.map((c: { status: string }) => c.status)).toEqual([
      'expired',
      'expired',
      'expired',
    ]);
    expect(history.contributions.at(-1)).toMatchObject({
      month: '2025-12',
      expiresAt: '2026-12-07T16:00:00.000Z',
    });

    // An order of an expired month arriving late counts nowhere.
    const late = order({ memberId: member, amount: 100_000, occurredAt: '2026-11-21T12:00:00+08:00' });
    await produce(stage, [late]);
    await waitForLedger(stage, [late.eventId]);
    expect((await score(member)).score).toBe(300);
  });
});

describe('the evaluation schedule', () => {
  it('when the service starts after a due evaluation was missed, then it runs it', async () => {
    const stage = await createStage({ EVALUATION_SCHEDULE_ENABLED: 'on' });
    const now = () => new Date('2027-02-10T00:00:00+08:00');
    const service = await startScoring(stage, { now });
    try {
      const row = await waitFor(async () => {
        const { rows } = await stage.db.query(
          'SELECT evaluation_at, window_from, completed_at FROM scoring.evaluations WHERE completed_at IS NOT NULL',
        );
        return rows[0];
      });
      expect(row.evaluation_at.toISOString()).toBe('2027-02-07T16:00:00.000Z');
      expect(row.window_from).toBe('2026-03');
    } finally {
      await service.stop();
      await stage.close();
    }
  });
});
