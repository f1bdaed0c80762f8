import { lastEvaluationAt, nextEvaluationAt } from '@taobi/rules';
import { uniqueId } from '@taobi/tests';
import type { TierService } from '../src/app';
import {
  changesOf,
  createTierEnvironment,
  read,
  scoreChanged,
  sendScoreChanges,
  startTier,
  type TierEnvironment,
  waitUntilSettled,
} from './harness';

describe('the evaluation schedule: catching up a missed evaluation, then running on the 8th', () => {
  let environment: TierEnvironment;
  const services: TierService[] = [];

  beforeAll(async () => {
    environment = await createTierEnvironment();
  });

  afterAll(async () => {
    for (const service of services) await service.stop();
    await environment?.close();
  });

  it('when the service starts after a missed evaluation, then it catches up at once, runs the next one on schedule, and a restart runs neither again', async () => {
    const realNext = nextEvaluationAt(new Date(), 8);
    const missed = lastEvaluationAt(new Date(), 8);
    const refunded = uniqueId('m');
    const expiring = uniqueId('m');

    // The stream is consumed with the schedule off, as if the service had been down on the 8th.
    const consuming = await startTier(environment);
    services.push(consuming);
    await sendScoreChanges(environment, [
      scoreChanged(refunded, 1, 760),
      scoreChanged(refunded, 2, 640),
      scoreChanged(expiring, 1, 1050, { expiring: 100, evaluationAt: realNext.toISOString() }),
    ]);
    await waitUntilSettled(environment);
    await consuming.stop();

    // A clock stopped 1.5 s before the next evaluation while the service starts (however long that
    // takes) and catches the missed one up; then it runs, and the next one fires.
    let runningSince: number | undefined;
    const stoppedAt = realNext.getTime() - 1500;
    const now = () => new Date(stoppedAt + (runningSince === undefined ? 0 : Date.now() - runningSince));
    const scheduled = await startTier(environment, { now, config: { EVALUATION_SCHEDULE_ENABLED: true } });
    services.push(scheduled);
    await scheduled.caughtUp;
    runningSince = Date.now();
    await environment.tierChanges.waitForCount(2, (r) => r.key === refunded);
    await environment.tierChanges.waitForCount(2, (r) => r.key === expiring, 30_000);
    await waitUntilSettled(environment);

    expect(changesOf(environment, refunded).map((c) => [c.tier, c.eventId])).toEqual([
      ['GOLD', `tier:${refunded}:score:1`],
      ['SILVER', `tier:${refunded}:evaluation:${missed.toISOString()}`],
    ]);
    expect(changesOf(environment, expiring).map((c) => [c.tier, c.score, c.occurredAt])).toEqual([
      ['PLATINUM', 1050, expect.any(String)],
      ['GOLD', 950, realNext.toISOString()],
    ]);
    const { rows } = await environment.pool.query(
      'SELECT as_of, trigger, status FROM tier.evaluations ORDER BY as_of',
    );
    expect(rows).toEqual([
      { as_of: missed, trigger: 'catch-up', status: 'completed' },
      { as_of: realNext, trigger: 'schedule', status: 'completed' },
    ]);
    const view = await scheduled.app.inject({ url: `/v1/members/${expiring}/tier`, headers: read });
    expect(view.json()).toMatchObject({
      tier: 'GOLD',
      score: 950,
      since: realNext.toISOString(),
      keep: { evaluationAt: nextEvaluationAt(realNext, 8).toISOString() },
    });
    await scheduled.stop();

    const restarted = await startTier(environment, { now, config: { EVALUATION_SCHEDULE_ENABLED: true } });
    services.push(restarted);
    await restarted.caughtUp;
    await waitUntilSettled(environment);
    const after = await environment.pool.query('SELECT count(*)::int AS n FROM tier.evaluations');
    expect(after.rows[0].n).toBe(2);
    expect(changesOf(environment, refunded)).toHaveLength(2);
    expect(changesOf(environment, expiring)).toHaveLength(2);
  });
});
