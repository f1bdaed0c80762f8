import type { ConsumptionEvent } from '@taobi/contracts';
import { createRedis, type Redis, type Service } from '@taobi/platform';
import { DEFAULT_RULE_SET, type RuleSet } from '@taobi/rules';
import { metricValue, testEndpoints, testLogger, uniqueId, waitFor } from '@taobi/tests';
import {
  ADMIN,
  createStage,
  order,
  produceAndFold,
  READ,
  refund,
  type Stage,
  scoreRecordsOf,
  startScoring,
  waitForOutboxPublished,
} from './harness';

/** Deletes this test's keys only (never FLUSHALL: Redis is shared). */
async function flushPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

describe('the Redis read model, rebuild and the APIs', () => {
  let stage: Stage;
  let service: Service;
  let redis: Redis;
  const members = [uniqueId('m'), uniqueId('m'), uniqueId('m')];
  // Each member's physical goods: 250, 500 and 750 CNY.
  const physicalOrders = members.map((memberId, i) => order({ memberId, amount: 25_000 * (i + 1) }));

  beforeAll(async () => {
    stage = await createStage();
    service = await startScoring(stage);
    redis = createRedis({ url: testEndpoints().redisUrl, keyPrefix: '', logger: testLogger() });
    const events = [
      ...members.flatMap((memberId, i) => [
        physicalOrders[i] as ConsumptionEvent,
        order({ memberId, source: 'food', category: 'grocery', amount: 12_000 }),
      ]),
      // An order that adds nothing (1 fen) in a bucket of its own: the fold writes no bucket for it.
      order({ memberId: members[0] as string, source: 'mobility', amount: 1 }),
    ];
    await produceAndFold(stage, events);
  });

  afterAll(async () => {
    redis?.disconnect();
    await service?.stop();
    await stage?.close();
  });

  const read = (memberId: string, headers: Record<string, string> = READ) =>
    service.app.inject({ url: `/v1/members/${memberId}/score`, headers });

  /** The points the history shows for one order of a member. */
  async function orderPoints(of: ConsumptionEvent): Promise<unknown> {
    const response = await service.app.inject({
      url: `/v1/members/${of.memberId}/score/history`,
      headers: READ,
    });
    const contributions = response.json().contributions as { orderId: string; points: number }[];
    return contributions.find((c) => c.orderId === of.orderId)?.points;
  }

  it('when Redis is flushed, then reads fall back to Postgres, lose nothing, and repair Redis', async () => {
    const cached = await waitFor(async () => {
      const response = await read(members[0] as string);
      return response.headers['x-read-source'] === 'redis' ? response : undefined;
    });
    expect(await flushPrefix(redis, stage.env.REDIS_KEY_PREFIX as string)).toBeGreaterThanOrEqual(
      members.length,
    );

    const fallback = await read(members[0] as string);
    expect(fallback.headers['x-read-source']).toBe('postgres');
    expect(fallback.json()).toEqual(cached.json());
    const repaired = await read(members[0] as string);
    expect(repaired.headers['x-read-source']).toBe('redis');
    expect(repaired.json()).toEqual(cached.json());

    // The refill command writes every member Redis lacks, and only those.
    const refill = await service.app.inject({
      method: 'POST',
      url: '/v1/admin/read-model/refill',
      headers: ADMIN,
    });
    expect(refill.json()).toEqual({ membersScanned: 3, written: 2 });
    for (const member of members) expect((await read(member)).headers['x-read-source']).toBe('redis');
    const metrics = (await service.app.inject({ url: '/metrics' })).body;
    const repairs = (trigger: string) =>
      metricValue(metrics, 'taobi_read_model_repairs_total', { model: 'scoring:score', trigger });
    expect([repairs('read'), repairs('refill')]).toEqual([1, 2]);
    // Every folded event's wait from ingest's acceptance to the fold's commit was measured.
    expect(metricValue(metrics, 'taobi_scoring_event_latency_seconds_count')).toBeGreaterThanOrEqual(6);
  });

  it('when a member was never seen, then they have the base score', async () => {
    const response = await read(uniqueId('m'));
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-read-source']).toBe('default');
    expect(response.json()).toMatchObject({
      score: 300,
      breakdown: { base: 300, ecommerce: 0, food: 0, travel: 0, mobility: 0 },
      version: 0,
      ruleVersion: DEFAULT_RULE_SET.version,
      updatedAt: null,
    });
  });

  it('when keys are missing or wrong, or input is invalid, then 401 (no or unknown key) / 403 (a key of another role) / 400 naming the field', async () => {
    expect((await read(members[0] as string, {})).statusCode).toBe(401);
    expect((await read(members[0] as string, { authorization: 'Bearer wrong-key-123' })).statusCode).toBe(
      401,
    );
    expect((await read(members[0] as string, ADMIN)).statusCode).toBe(403);
    const admin = await service.app.inject({ method: 'POST', url: '/v1/admin/rebuild', headers: READ });
    expect(admin.statusCode).toBe(403);

    const badId = await read('has space');
    expect(badId.statusCode).toBe(400);
    expect(badId.json().error.fields[0].field).toBe('id');
    const badCursor = await service.app.inject({
      url: `/v1/members/${members[0]}/score/history?cursor=nope`,
      headers: READ,
    });
    expect(badCursor.json().error.fields).toEqual([
      { field: 'cursor', message: 'not a cursor this API returned' },
    ]);
    const badAsOf = await service.app.inject({
      method: 'POST',
      url: '/v1/admin/evaluations',
      headers: ADMIN,
      payload: { asOf: 'next tuesday' },
    });
    expect(badAsOf.statusCode).toBe(400);
    expect(badAsOf.json().error.fields[0].field).toBe('asOf');
  });

  it('when history is paged, then every contribution comes once, newest first', async () => {
    const member = members[2] as string;
    const first = (
      await service.app.inject({ url: `/v1/members/${member}/score/history?limit=1`, headers: READ })
    ).json();
    expect(first.contributions).toHaveLength(1);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = (
      await service.app.inject({
        url: `/v1/members/${member}/score/history?limit=1&cursor=${first.nextCursor}`,
        headers: READ,
      })
    ).json();
    expect(second.contributions).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    const ids = [...first.contributions, ...second.contributions]
      .map((c: { source: string }) => c.source)
      .sort();
    expect(ids).toEqual(['ecommerce', 'food']);
    expect(first.months).toHaveLength(2);
  });

  it('when the rule set changes, then a rebuild recomputes every score from the ledger and reports it; a second changes nothing', async () => {
    const unchanged = await service.app.inject({ method: 'POST', url: '/v1/admin/rebuild', headers: ADMIN });
    expect(unchanged.json()).toMatchObject({
      membersScanned: 3,
      membersChanged: 0,
      ordersChanged: 0,
      bucketsChanged: 0,
    });

    await service.stop();
    const doubled: RuleSet = structuredClone(DEFAULT_RULE_SET);
    doubled.version = '2026.1-test-double-physical';
    const physical = doubled.score.sources.ecommerce?.categories.physical;
    if (!physical) throw new Error('the shipped rule set has ecommerce / physical');
    physical.fenPerPoint = 2_000;
    service = await startScoring(stage, { rules: doubled });
    const before = await Promise.all(members.map(async (m) => (await read(m)).json().score));
    // Until the rebuild, a member's orders show the points of the rule set their score is under.
    expect(await Promise.all(physicalOrders.map(orderPoints))).toEqual([6, 12, 18]);
    const rebuild = await service.app.inject({ method: 'POST', url: '/v1/admin/rebuild', headers: ADMIN });
    expect(rebuild.statusCode).toBe(200);
    // 250, 500 and 750 CNY of physical goods earn 6, 12, 18 points at 40 CNY a point; 12, 25, 37 at 20.
    expect(rebuild.json()).toMatchObject({
      ruleVersion: doubled.version,
      membersScanned: 3,
      membersChanged: 3,
      ordersChanged: 3,
    });
    const changes = rebuild.json().changes as { memberId: string; previousScore: number; score: number }[];
    const gains = members.map((m) => changes.find((c) => c.memberId === m));
    expect(gains.map((c, i) => (c ? c.score - (before[i] as number) : undefined))).toEqual([6, 13, 19]);
    await waitForOutboxPublished(stage);
    for (const member of members) {
      await stage.scoreChanged.waitForCount(1, (r) => r.key === member && r.value.reason === 'rebuild');
      const records = scoreRecordsOf(stage, member);
      expect(records.at(-1)?.reason).toBe('rebuild');
      expect(records.at(-1)?.ruleVersion).toBe(doubled.version);
      const body = await waitFor(async () => {
        const response = (await read(member)).json();
        return response.version === records.at(-1)?.version ? response : undefined;
      });
      expect(body.ruleVersion).toBe(doubled.version);
    }
    const again = await service.app.inject({ method: 'POST', url: '/v1/admin/rebuild', headers: ADMIN });
    expect(again.json()).toMatchObject({ membersChanged: 0, ordersChanged: 0, bucketsChanged: 0 });
    expect(await Promise.all(physicalOrders.map(orderPoints))).toEqual([12, 25, 37]);
  });

  it('when a refund arrives after a rule change and its rebuild, then the order shows its points under the new rule set, the refund taken off', async () => {
    const of = physicalOrders[1] as ConsumptionEvent;
    const scoreBefore = (await read(of.memberId)).json().score;
    // 500 CNY less 200 refunded: 300 CNY at 20 CNY a point, 15 points (25 before).
    await produceAndFold(stage, [refund(of, 20_000)]);
    expect(await orderPoints(of)).toBe(15);
    const after = await waitFor(async () => {
      const body = (await read(of.memberId)).json();
      return body.score !== scoreBefore ? body : undefined;
    });
    expect(after.score).toBe(scoreBefore - 10);
  });
});
