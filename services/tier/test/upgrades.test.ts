import { deadLetterSchema } from '@taobi/contracts';
import { createRedis, createVersionedStore, publish } from '@taobi/platform';
import { metricValue, TopicReader, testLogger, uniqueId, waitFor } from '@taobi/tests';
import { changesOf, read, scoreChanged, sendScoreChanges, tierSuite, waitUntilSettled } from './harness';

describe('the tier service on score changes (real Kafka, Postgres, Redis)', () => {
  const tier = tierSuite();

  async function memberTier(memberId: string) {
    const response = await tier.service.app.inject({ url: `/v1/members/${memberId}/tier`, headers: read });
    expect(response.statusCode).toBe(200);
    return response.json();
  }

  it('when a score climbs across 400, 700, 1000, 2500, 5000, then the first score places the member and one tier-changed record follows per crossing, in order', async () => {
    const member = uniqueId('m');
    const scores = [350, 399, 400, 650, 700, 999, 1000, 1800, 2500, 4999, 5000, 5200];
    // Sent in separate sends, so the service sees several batches, as it would from scoring.
    for (const [i, score] of scores.entries()) {
      await sendScoreChanges(tier.environment, [scoreChanged(member, i + 1, score)]);
    }
    const records = await tier.environment.tierChanges.waitForCount(6, (r) => r.key === member);
    await waitUntilSettled(tier.environment);

    expect(changesOf(tier.environment, member)).toHaveLength(6);
    expect(
      records.map((r) => [r.value.previousTier, r.value.tier, r.value.score, r.value.scoreVersion]),
    ).toEqual([
      [null, 'BRONZE', 350, 1],
      ['BRONZE', 'SILVER', 400, 3],
      ['SILVER', 'GOLD', 700, 5],
      ['GOLD', 'PLATINUM', 1000, 7],
      ['PLATINUM', 'DIAMOND', 2500, 9],
      ['DIAMOND', 'BLACK_DIAMOND', 5000, 11],
    ]);
    expect(records[0]?.value).toMatchObject({ direction: 'initial', reason: 'first-score' });
    for (const { value } of records.slice(1)) {
      expect(value).toMatchObject({
        direction: 'up',
        reason: 'score-increase',
        memberId: member,
        schemaVersion: 1,
      });
      expect(value.eventId).toBe(`tier:${member}:score:${value.scoreVersion}`);
    }
    for (const { value } of records) expect(value.eventId).toBe(`tier:${member}:score:${value.scoreVersion}`);
    expect(await memberTier(member)).toMatchObject({
      tier: 'BLACK_DIAMOND',
      score: 5200,
      next: null,
      downgradePending: false,
      scoreVersion: 12,
    });
  });

  it('when one score change jumps across two thresholds, then exactly one record goes straight to the higher tier', async () => {
    const member = uniqueId('m');
    await sendScoreChanges(tier.environment, [scoreChanged(member, 1, 320), scoreChanged(member, 2, 820)]);
    await tier.environment.tierChanges.waitForCount(2, (r) => r.key === member);
    await waitUntilSettled(tier.environment);
    expect(changesOf(tier.environment, member)).toEqual([
      expect.objectContaining({ previousTier: null, tier: 'BRONZE', direction: 'initial', scoreVersion: 1 }),
      expect.objectContaining({ previousTier: 'BRONZE', tier: 'GOLD', score: 820, scoreVersion: 2 }),
    ]);
    expect(await memberTier(member)).toMatchObject({
      tier: 'GOLD',
      score: 820,
      next: { tier: 'PLATINUM', threshold: 1000, pointsNeeded: 180 },
    });
  });

  it('when score changes arrive twice, late and out of order, then no wrong or duplicate record, and the stale ones are counted', async () => {
    const member = uniqueId('m');
    const v = [300, 450, 720, 710, 1100].map((score, i) => scoreChanged(member, i + 1, score));
    const [v1, v2, v3, v4, v5] = v as [
      (typeof v)[0],
      (typeof v)[0],
      (typeof v)[0],
      (typeof v)[0],
      (typeof v)[0],
    ];
    // v3 is lost for a while, v5 overtakes v4, and everything is delivered again afterwards.
    await sendScoreChanges(tier.environment, [v1, v2, v2, v5, v4, v1]);
    await sendScoreChanges(tier.environment, [v3, ...v]);
    await tier.environment.tierChanges.waitForCount(3, (r) => r.key === member);
    await waitUntilSettled(tier.environment);

    // v1 placed the member; v2 crossed 400; v5 jumped from SILVER to PLATINUM; v3 and v4 came after v5
    // and count for nothing.
    expect(changesOf(tier.environment, member).map((c) => [c.previousTier, c.tier, c.scoreVersion])).toEqual([
      [null, 'BRONZE', 1],
      ['BRONZE', 'SILVER', 2],
      ['SILVER', 'PLATINUM', 5],
    ]);
    expect(await memberTier(member)).toMatchObject({ tier: 'PLATINUM', score: 1100, scoreVersion: 5 });
    const metrics = await tier.service.app.inject({ url: '/metrics' });
    expect(
      metricValue(metrics.body, 'taobi_tier_score_changes_total', { outcome: 'stale' }),
    ).toBeGreaterThanOrEqual(9);
    expect(
      metricValue(metrics.body, 'taobi_tier_changes_total', {
        from: 'SILVER',
        to: 'PLATINUM',
        direction: 'up',
      }),
    ).toBe(1);
  });

  it('when a score falls below the tier’s threshold, then no record is published and a downgrade is pending; climbing back clears it', async () => {
    const member = uniqueId('m');
    await sendScoreChanges(tier.environment, [scoreChanged(member, 1, 760), scoreChanged(member, 2, 640)]);
    await tier.environment.tierChanges.waitForCount(1, (r) => r.key === member);
    await waitUntilSettled(tier.environment);
    expect(changesOf(tier.environment, member)).toHaveLength(1);
    expect(await memberTier(member)).toMatchObject({
      tier: 'GOLD',
      score: 640,
      downgradePending: true,
      keep: { tier: 'GOLD', threshold: 700, pointsNeeded: 60 },
    });
    const pending = await tier.service.app.inject({ url: '/metrics' });
    expect(metricValue(pending.body, 'taobi_tier_pending_downgrades')).toBeGreaterThanOrEqual(1);

    await sendScoreChanges(tier.environment, [scoreChanged(member, 3, 705)]);
    await waitFor(async () => (await memberTier(member)).downgradePending === false, {
      description: 'the pending downgrade to clear',
    });
    await waitUntilSettled(tier.environment);
    expect(changesOf(tier.environment, member)).toHaveLength(1);
  });

  it('when the Redis entry is gone, then the tier is answered from Postgres and Redis is repaired', async () => {
    const member = uniqueId('m');
    await sendScoreChanges(tier.environment, [scoreChanged(member, 1, 480)]);
    await tier.environment.tierChanges.waitForCount(1, (r) => r.key === member);
    const redis = createRedis({
      url: tier.environment.config.REDIS_URL,
      keyPrefix: tier.environment.config.REDIS_KEY_PREFIX,
      logger: testLogger(),
    });
    try {
      const store = createVersionedStore<{ tier: string }>(redis, 'tier:member', { ttlMs: 60_000 });
      await waitFor(async () => (await store.read(member))?.value.tier === 'SILVER', {
        description: 'the read model to hold the member',
      });
      await store.remove(member);
      expect(await memberTier(member)).toMatchObject({ tier: 'SILVER', score: 480 });
      expect((await store.read(member))?.value).toMatchObject({ tier: 'SILVER', scoreVersion: 1 });
    } finally {
      redis.disconnect();
    }
  });

  it('when a record is not a valid score change, then it goes to the DLQ and the partition moves on', async () => {
    const member = uniqueId('m');
    const dlq = await TopicReader.start(tier.environment.topics.consumptionDlq, tier.environment.kafka);
    try {
      await publish(tier.environment.producer, [
        {
          topic: tier.environment.topics.scoreChanged,
          key: member,
          value: { memberId: member, score: 'lots' },
        },
      ]);
      await sendScoreChanges(tier.environment, [scoreChanged(member, 1, 410)]);
      const [letter] = await dlq.waitForCount(1, (r) => r.key === member);
      expect(deadLetterSchema.parse(letter?.value)).toMatchObject({
        memberId: member,
        consumerGroup: tier.environment.config.KAFKA_GROUP_ID,
        reason: 'record does not match its schema',
      });
      await tier.environment.tierChanges.waitForCount(1, (r) => r.key === member);
    } finally {
      await dlq.close();
    }
  });
});
