import { DEFAULT_RULE_SET } from '@taobi/rules';
import { metricValue, testLogger, uniqueId } from '@taobi/tests';
import { buildTierService, type TierService } from '../src/app';
import {
  admin,
  changesOf,
  NEXT_EVALUATION,
  read,
  scoreChanged,
  sendScoreChanges,
  tierSuite,
  waitUntilSettled,
} from './harness';

/** Evaluation instants for the tests: later and later, never after the next scheduled one. */
let clock = Date.now();
function nextAsOf(): string {
  clock += 60_000;
  return new Date(clock).toISOString();
}

async function evaluate(service: TierService, asOf: string) {
  const response = await service.app.inject({
    method: 'POST',
    url: '/v1/admin/evaluations',
    headers: admin,
    payload: { asOf },
  });
  expect(response.statusCode).toBe(200);
  return response.json();
}

async function memberTier(service: TierService, memberId: string) {
  return (await service.app.inject({ url: `/v1/members/${memberId}/tier`, headers: read })).json();
}

describe('the monthly evaluation, moving members to the tier their score supports', () => {
  const tier = tierSuite();

  it('when a refund takes the score below a tier reached within the window, then the tier goes back at once to what the rest supports, and the next evaluation changes nothing; after the window it waits', async () => {
    const bought = uniqueId('m');
    const longAgo = uniqueId('m');
    const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
    await sendScoreChanges(tier.environment, [
      scoreChanged(bought, 1, 320, { occurredAt: daysAgo(3) }),
      scoreChanged(bought, 2, 5300, { occurredAt: daysAgo(2) }),
      scoreChanged(bought, 3, 420, { previousScore: 5300, refundEventIds: ['rf-1', 'rf-2'] }),
      scoreChanged(longAgo, 1, 5300, { occurredAt: daysAgo(40) }),
      scoreChanged(longAgo, 2, 420, { previousScore: 5300, refundEventIds: ['rf-3'] }),
    ]);
    await tier.environment.tierChanges.waitForCount(3, (r) => r.key === bought);
    await waitUntilSettled(tier.environment);
    const changes = changesOf(tier.environment, bought);
    expect(changes.map((c) => [c.previousTier, c.tier, c.direction, c.reason])).toEqual([
      [null, 'BRONZE', 'initial', 'first-score'],
      ['BRONZE', 'BLACK_DIAMOND', 'up', 'score-increase'],
      ['BLACK_DIAMOND', 'SILVER', 'down', 'refund-clawback'],
    ]);
    expect(changes[2]).toMatchObject({ eventId: `tier:${bought}:score:3`, score: 420, scoreVersion: 3 });
    expect(await memberTier(tier.service, bought)).toMatchObject({ tier: 'SILVER', downgradePending: false });
    // Placed at Black Diamond 40 days ago: the refund waits for the evaluation like any other dip.
    expect(changesOf(tier.environment, longAgo).map((c) => c.reason)).toEqual(['first-score']);
    expect(await memberTier(tier.service, longAgo)).toMatchObject({
      tier: 'BLACK_DIAMOND',
      downgradePending: true,
    });
    const metrics = await tier.service.app.inject({ url: '/metrics' });
    expect(
      metricValue(metrics.body, 'taobi_tier_refund_clawbacks_total', { from: 'BLACK_DIAMOND', to: 'SILVER' }),
    ).toBe(1);

    await evaluate(tier.service, nextAsOf());
    await tier.environment.tierChanges.waitForCount(2, (r) => r.key === longAgo);
    await waitUntilSettled(tier.environment);
    expect(changesOf(tier.environment, bought)).toHaveLength(3);
    expect(changesOf(tier.environment, longAgo).map((c) => [c.tier, c.reason])).toEqual([
      ['BLACK_DIAMOND', 'first-score'],
      ['SILVER', 'monthly-evaluation'],
    ]);
  });

  it('when the score drops below the threshold without a refund (an expiry, a rebuild), then the tier holds until the evaluation, which downgrades once, also when run twice', async () => {
    const member = uniqueId('m');
    const climbedBack = uniqueId('m');
    await sendScoreChanges(tier.environment, [
      scoreChanged(member, 1, 760),
      scoreChanged(member, 2, 640, { previousScore: 760 }),
      scoreChanged(climbedBack, 1, 760),
      scoreChanged(climbedBack, 2, 640),
      scoreChanged(climbedBack, 3, 720),
    ]);
    await waitUntilSettled(tier.environment);
    expect(changesOf(tier.environment, member)).toHaveLength(1);
    expect(await memberTier(tier.service, member)).toMatchObject({ tier: 'GOLD', downgradePending: true });
    expect(await memberTier(tier.service, climbedBack)).toMatchObject({
      tier: 'GOLD',
      downgradePending: false,
    });

    const asOf = nextAsOf();
    const first = await evaluate(tier.service, asOf);
    expect(first).toMatchObject({ asOf, status: 'completed', trigger: 'admin', alreadyCompleted: false });
    expect(first.downgrades).toBeGreaterThanOrEqual(1);
    const second = await evaluate(tier.service, asOf);
    expect(second).toMatchObject({
      asOf,
      status: 'completed',
      alreadyCompleted: true,
      downgrades: first.downgrades,
    });
    await tier.environment.tierChanges.waitForCount(2, (r) => r.key === member);
    await waitUntilSettled(tier.environment);

    expect(changesOf(tier.environment, member)).toEqual([
      expect.objectContaining({ previousTier: null, tier: 'GOLD', direction: 'initial' }),
      {
        eventId: `tier:${member}:evaluation:${asOf}`,
        schemaVersion: 1,
        memberId: member,
        occurredAt: asOf,
        previousTier: 'GOLD',
        tier: 'SILVER',
        direction: 'down',
        score: 640,
        scoreVersion: 2,
        reason: 'monthly-evaluation',
        // Why: 640 is under Gold's 700; nothing expired (a refund lowered the score).
        decision: expect.objectContaining({
          from: 'GOLD',
          to: 'SILVER',
          threshold: 700,
          score: 640,
          evaluationAsOf: asOf,
          expiredMonths: [],
        }),
      },
    ]);
    expect(changesOf(tier.environment, climbedBack)).toHaveLength(1);
    expect(await memberTier(tier.service, member)).toMatchObject({
      tier: 'SILVER',
      since: asOf,
      downgradePending: false,
      next: { tier: 'GOLD', pointsNeeded: 60 },
    });

    // Scoring's own monthly-evaluation record arrives afterwards: it agrees, nothing more is published.
    await sendScoreChanges(tier.environment, [
      scoreChanged(member, 3, 640, { reason: 'monthly-evaluation' }),
    ]);
    await waitUntilSettled(tier.environment);
    expect(changesOf(tier.environment, member)).toHaveLength(2);
  });

  it('when points expire at the evaluation, then the forecast decides whichever of scoring and tier evaluates first, with one record', async () => {
    const asOf = nextAsOf();
    const tierFirst = uniqueId('m');
    const scoringFirst = uniqueId('m');
    // Both at 1050 with 100 points expiring at this evaluation: 950 afterwards, which is Gold.
    await sendScoreChanges(tier.environment, [
      scoreChanged(tierFirst, 1, 1050, { expiring: 100, evaluationAt: asOf }),
      scoreChanged(scoringFirst, 1, 1050, { expiring: 100, evaluationAt: asOf }),
      // Scoring evaluated before tier for this member: its record already holds the expiry.
      scoreChanged(scoringFirst, 2, 950, { reason: 'monthly-evaluation', evaluationAt: NEXT_EVALUATION }),
    ]);
    await waitUntilSettled(tier.environment);
    expect(await memberTier(tier.service, tierFirst)).toMatchObject({
      tier: 'PLATINUM',
      downgradePending: false,
      keep: { evaluationAt: expect.any(String) },
    });
    expect(await memberTier(tier.service, scoringFirst)).toMatchObject({
      tier: 'PLATINUM',
      downgradePending: true,
    });

    await evaluate(tier.service, asOf);
    await tier.environment.tierChanges.waitForCount(2, (r) => r.key === tierFirst);
    await tier.environment.tierChanges.waitForCount(2, (r) => r.key === scoringFirst);

    // For tierFirst, scoring's records come late: one written before its evaluation, then its own.
    await sendScoreChanges(tier.environment, [
      scoreChanged(tierFirst, 2, 1080, { expiring: 100, evaluationAt: asOf }),
      scoreChanged(tierFirst, 3, 980, { reason: 'monthly-evaluation', evaluationAt: NEXT_EVALUATION }),
    ]);
    await waitUntilSettled(tier.environment);
    for (const member of [tierFirst, scoringFirst]) {
      const changes = changesOf(tier.environment, member);
      expect(changes.map((c) => [c.previousTier, c.tier, c.direction])).toEqual([
        [null, 'PLATINUM', 'initial'],
        ['PLATINUM', 'GOLD', 'down'],
      ]);
      expect(changes[1]?.score).toBe(950);
    }
    expect(await memberTier(tier.service, tierFirst)).toMatchObject({
      tier: 'GOLD',
      score: 980,
      downgradePending: false,
    });
  });

  it('when an evaluation crashes part-way, then running it again finishes it and moves each member once', async () => {
    const members = Array.from({ length: 5 }, () => uniqueId('m'));
    await sendScoreChanges(
      tier.environment,
      members.flatMap((m) => [scoreChanged(m, 1, 800), scoreChanged(m, 2, 500)]),
    );
    await waitUntilSettled(tier.environment);
    const asOf = nextAsOf();
    // A second instance whose evaluation dies after its first page of two members.
    const crashing = buildTierService({ ...tier.environment.config, EVALUATION_PAGE_SIZE: 2 }, testLogger(), {
      afterEvaluationPage: () => {
        throw new Error('simulated crash');
      },
    });
    try {
      await expect(crashing.evaluator.run(new Date(asOf), 'admin')).rejects.toThrow('simulated crash');
    } finally {
      await crashing.stop();
    }
    const { rows } = await tier.environment.pool.query(
      'SELECT status, cursor, members_evaluated FROM tier.evaluations WHERE as_of = $1',
      [asOf],
    );
    expect(rows[0]).toMatchObject({ status: 'running', members_evaluated: 2 });
    expect(rows[0].cursor).toEqual(expect.any(String));

    const resumed = await evaluate(tier.service, asOf);
    const total = await tier.environment.pool.query('SELECT count(*)::int AS n FROM tier.members');
    expect(resumed).toMatchObject({
      status: 'completed',
      alreadyCompleted: false,
      membersEvaluated: total.rows[0].n,
    });
    for (const member of members) await tier.environment.tierChanges.waitForCount(2, (r) => r.key === member);
    await waitUntilSettled(tier.environment);
    for (const member of members) {
      expect(changesOf(tier.environment, member).map((c) => [c.tier, c.eventId])).toEqual([
        ['GOLD', `tier:${member}:score:1`],
        ['SILVER', `tier:${member}:evaluation:${asOf}`],
      ]);
    }
  });

  it('when the admin call is unauthorised, malformed, too far ahead or older than the last evaluation, then it is refused and nothing runs', async () => {
    const post = (payload: unknown, headers: Record<string, string> = admin) =>
      tier.service.app.inject({
        method: 'POST',
        url: '/v1/admin/evaluations',
        headers,
        payload: payload as object,
      });
    const before = await tier.environment.pool.query('SELECT count(*)::int AS n FROM tier.evaluations');

    expect((await post({ asOf: nextAsOf() }, {})).statusCode).toBe(401);
    expect((await post({ asOf: nextAsOf() }, read)).statusCode).toBe(403);
    const missing = await post({});
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.fields).toEqual([expect.objectContaining({ field: 'asOf' })]);
    expect((await post({ asOf: 'next tuesday' })).json().error.fields[0].field).toBe('asOf');
    expect((await post({ asOf: nextAsOf(), extra: 1 })).statusCode).toBe(400);
    const tooFar = await post({ asOf: new Date(Date.parse(NEXT_EVALUATION) + 1000).toISOString() });
    expect(tooFar.statusCode).toBe(400);
    expect(tooFar.json().error.fields[0].field).toBe('asOf');
    const older = await post({ asOf: new Date(Date.now() - 86_400_000).toISOString() });
    expect(older.statusCode).toBe(409);
    expect(older.json().error.code).toBe('EVALUATION_OUT_OF_ORDER');

    const after = await tier.environment.pool.query('SELECT count(*)::int AS n FROM tier.evaluations');
    expect(after.rows[0].n).toBe(before.rows[0].n);
    const list = await tier.service.app.inject({ url: '/v1/admin/evaluations', headers: admin });
    expect(list.json().evaluations.length).toBe(before.rows[0].n);
    const metrics = await tier.service.app.inject({ url: '/metrics' });
    expect(
      metricValue(metrics.body, 'taobi_tier_evaluation_duration_seconds_count', { trigger: 'admin' }),
    ).toBeGreaterThan(0);
    // The latest completed evaluation, as Postgres has it: when, for which asOf, and none running.
    const latest = await tier.environment.pool.query(
      `SELECT extract(epoch FROM as_of)::float8 AS as_of, extract(epoch FROM completed_at)::float8 AS at
       FROM tier.evaluations WHERE status = 'completed' ORDER BY as_of DESC LIMIT 1`,
    );
    expect(metricValue(metrics.body, 'taobi_tier_evaluation_last_completed_as_of_timestamp_seconds')).toBe(
      latest.rows[0].as_of,
    );
    expect(metricValue(metrics.body, 'taobi_tier_evaluation_last_success_timestamp_seconds')).toBe(
      latest.rows[0].at,
    );
    expect(metricValue(metrics.body, 'taobi_tier_evaluation_in_progress')).toBe(0);
    expect(metricValue(metrics.body, 'taobi_tier_evaluation_due_as_of_timestamp_seconds')).toBeGreaterThan(0);
  });
});

describe('the monthly evaluation under the "one tier at a time" rule set', () => {
  const tier = tierSuite({
    service: {
      ruleSet: { ...DEFAULT_RULE_SET, tiers: { ...DEFAULT_RULE_SET.tiers, downgrade: 'one-tier-at-a-time' } },
    },
  });

  it('when a Diamond member falls to 500 points, then each evaluation moves one tier down, a rerun none, until Silver', async () => {
    const member = uniqueId('m');
    await sendScoreChanges(tier.environment, [scoreChanged(member, 1, 2600), scoreChanged(member, 2, 500)]);
    await waitUntilSettled(tier.environment);
    const asOfs = [nextAsOf(), nextAsOf(), nextAsOf(), nextAsOf()];
    for (const asOf of asOfs) {
      await evaluate(tier.service, asOf);
      await evaluate(tier.service, asOf);
    }
    await tier.environment.tierChanges.waitForCount(4, (r) => r.key === member);
    await waitUntilSettled(tier.environment);
    expect(changesOf(tier.environment, member).map((c) => [c.previousTier, c.tier, c.occurredAt])).toEqual([
      [null, 'DIAMOND', expect.any(String)],
      ['DIAMOND', 'PLATINUM', asOfs[0]],
      ['PLATINUM', 'GOLD', asOfs[1]],
      ['GOLD', 'SILVER', asOfs[2]],
    ]);
    expect(await memberTier(tier.service, member)).toMatchObject({ tier: 'SILVER', downgradePending: false });
  });
});
