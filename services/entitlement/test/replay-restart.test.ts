import { benefitsAt, DEFAULT_CATALOGUE, grantedOnTierChange } from '@taobi/benefits';
import type { EntitlementChanged, TierChanged } from '@taobi/contracts';
import { createPool } from '@taobi/platform';
import {
  createTestDatabase,
  createTestTopics,
  freePort,
  ServiceProcess,
  TopicReader,
  testEndpoints,
  testKafka,
  testLogger,
  uniqueId,
  waitFor,
} from '@taobi/tests';
import { Harness, LOTTERY, tierChange } from './harness';

const GRANTABLE_AT_BLACK_DIAMOND = benefitsAt(DEFAULT_CATALOGUE, 'BLACK_DIAMOND').filter(
  grantedOnTierChange,
).length;
/** The lottery's voucher: granted per winning draw, not by the tier (counted from the draws). */

async function snapshot(h: Harness, memberId: string) {
  const grants = await h.pool.query(
    'SELECT id, benefit_id, grant_key, status FROM entitlement.grants WHERE member_id = $1 ORDER BY id',
    [memberId],
  );
  const draws = await h.pool.query(
    'SELECT tier, won, grant_id FROM entitlement.lottery_draws WHERE member_id = $1 ORDER BY tier',
    [memberId],
  );
  const outbox = await h.pool.query<{ event_id: string }>(
    'SELECT event_id FROM entitlement.outbox WHERE message_key = $1 ORDER BY id',
    [memberId],
  );
  return { grants: grants.rows, draws: draws.rows, outbox: outbox.rows.map((r) => r.event_id) };
}

describe('replays, duplicates and restarts (real Kafka and Postgres)', () => {
  it('when tier changes arrive twice and out of order, and the service restarts in its group and then replays the whole topic in a fresh group, then no grant and no record is duplicated', async () => {
    const h = await Harness.start();
    try {
      const m = uniqueId('m');
      const v = {
        silver: tierChange(m, 'BRONZE', 'SILVER', 1),
        platinum: tierChange(m, 'SILVER', 'PLATINUM', 2),
        diamond: tierChange(m, 'PLATINUM', 'DIAMOND', 3),
        black: tierChange(m, 'DIAMOND', 'BLACK_DIAMOND', 4),
      };
      // Duplicates, and Platinum re-sent after Diamond (as a republishing outbox would).
      await h.produce([v.silver, v.silver, v.platinum, v.diamond, v.platinum, v.black, v.black, v.silver]);
      await h.waitUntilConsumed();
      const before = await snapshot(h, m);
      // One lottery draw per tier reached; a win is a voucher grant.
      expect(before.draws.map((d: { tier: string }) => d.tier).sort()).toEqual(
        ['BLACK_DIAMOND', 'DIAMOND', 'PLATINUM', 'SILVER'].sort(),
      );
      const wins = before.draws.filter((d: { won: boolean }) => d.won).length;
      expect(before.grants.filter((g: { benefit_id: string }) => g.benefit_id !== LOTTERY)).toHaveLength(
        GRANTABLE_AT_BLACK_DIAMOND,
      );
      expect(before.grants).toHaveLength(GRANTABLE_AT_BLACK_DIAMOND + wins);
      expect(new Set(before.outbox).size).toBe(before.outbox.length);
      // Every grant plus one eligibility change leaves, each exactly once.
      expect(before.outbox).toHaveLength(GRANTABLE_AT_BLACK_DIAMOND + wins + 1);
      await h.reader.waitForCount(before.outbox.length, (r) => r.key === m);
      const outcomes = await h.pool.query(
        'SELECT outcome, count(*)::int AS n FROM entitlement.tier_changes WHERE member_id = $1 GROUP BY outcome ORDER BY outcome',
        [m],
      );
      // The log holds each record once; the repeated Platinum came after Diamond and was stale.
      expect(outcomes.rows).toEqual([{ outcome: 'applied', n: 4 }]);

      // Restart in the same group, then a stale record arrives: nothing changes.
      await h.stopService();
      await h.startService();
      await h.produce([v.diamond]);
      await h.waitUntilConsumed();
      expect(await snapshot(h, m)).toEqual(before);

      // A fresh group replays every record from the beginning of the topic.
      await h.stopService();
      const replayGroup = uniqueId('replay');
      await h.startService(replayGroup);
      await h.waitUntilConsumed(replayGroup);
      expect(await snapshot(h, m)).toEqual(before);
      expect((await h.entitlements(m)).tier).toBe('BLACK_DIAMOND');
      expect(h.reader.matching((r) => r.key === m)).toHaveLength(before.outbox.length);
    } finally {
      await h.close();
    }
  });

  it('when the service process is killed with SIGKILL mid-stream and started again, then every member ends with each grant exactly once, and SIGTERM then exits cleanly', async () => {
    const kafka = testKafka();
    const { prefix, topics } = await createTestTopics(kafka);
    const database = await createTestDatabase();
    const pool = createPool({
      connectionString: database.url,
      logger: testLogger(),
      applicationName: 'test',
    });
    const reader = await TopicReader.start<EntitlementChanged>(topics.entitlementChanged, kafka);
    const producer = kafka.producer();
    await producer.connect();
    const port = await freePort();
    const env = {
      PORT: String(port),
      KAFKA_BROKERS: testEndpoints().kafkaBrokers.join(','),
      DATABASE_URL: database.url,
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_GROUP_ID: uniqueId('entitlement'),
      PERIODIC_SCHEDULE_ENABLED: 'false',
      // The killed process's partitions go to the new one after this long, not the default 30 s.
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      LOG_LEVEL: 'info',
    };
    const members = Array.from({ length: 40 }, () => uniqueId('m'));
    const now = Date.now();
    const climb = (m: string): TierChanged[] =>
      (
        [
          ['BRONZE', 'SILVER'],
          ['SILVER', 'GOLD'],
          ['GOLD', 'PLATINUM'],
          ['PLATINUM', 'DIAMOND'],
          ['DIAMOND', 'BLACK_DIAMOND'],
        ] as const
      ).map(([from, to], i) =>
        tierChange(m, from, to, i + 1, { occurredAt: new Date(now - 60_000 + i * 1000).toISOString() }),
      );
    let first: ServiceProcess | undefined;
    let second: ServiceProcess | undefined;
    try {
      first = ServiceProcess.start('services/entitlement/src/main.ts', env);
      await first.waitUntilListening(`http://127.0.0.1:${port}`);
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, {
        description: 'the first process to be ready',
      });
      const send = (batch: string[]) =>
        producer.send({
          topic: topics.tierChanged,
          messages: batch.flatMap((m) => climb(m).map((r) => ({ key: m, value: JSON.stringify(r) }))),
        });
      await send(members.slice(0, 20));
      await waitFor(
        async () => (await pool.query('SELECT count(*)::int AS n FROM entitlement.grants')).rows[0].n > 0,
        { description: 'the first grants' },
      );
      await first.stop('SIGKILL');
      // Half the members' climbs arrive while no process runs: only the second one can grant them.
      await send(members.slice(20));

      second = ServiceProcess.start('services/entitlement/src/main.ts', env);
      await second.waitUntilListening(`http://127.0.0.1:${port}`);
      await waitFor(
        async () => {
          const { rows } = await pool.query(
            "SELECT count(*)::int AS n FROM entitlement.members WHERE tier = 'BLACK_DIAMOND' AND member_id = ANY($1)",
            [members],
          );
          return rows[0].n === members.length;
        },
        { timeoutMs: 60_000, description: 'every member to reach Black Diamond' },
      );
      const duplicates = await pool.query(
        `SELECT member_id, benefit_id, count(*)::int AS n FROM entitlement.grants WHERE benefit_id <> $1
         GROUP BY member_id, benefit_id HAVING count(*) > 1`,
        [LOTTERY],
      );
      expect(duplicates.rows).toEqual([]);
      // One draw per member and tier reached, across the kill; each win one voucher.
      const draws = await pool.query(
        'SELECT count(*)::int AS n, count(*) FILTER (WHERE won)::int AS wins, count(grant_id)::int AS vouchers FROM entitlement.lottery_draws',
      );
      expect(draws.rows[0].n).toBe(members.length * 5);
      expect(draws.rows[0].vouchers).toBe(draws.rows[0].wins);
      const expected = members.length * GRANTABLE_AT_BLACK_DIAMOND + draws.rows[0].wins;
      const total = await pool.query('SELECT count(*)::int AS n FROM entitlement.grants');
      expect(total.rows[0].n).toBe(expected);
      // Everything leaves: each grant's record and one eligibility change per member, each id once
      // in the outbox (a record published twice around the kill keeps its eventId).
      const granted = await reader.waitForCount(expected, (r) => r.value.action === 'granted', 60_000);
      expect(new Set(granted.map((r) => r.value.eventId)).size).toBe(expected);

      const { code } = await second.stop('SIGTERM');
      expect(code).toBe(0);
      expect(second.output).toContain('shut down cleanly');
    } finally {
      await first?.stop('SIGKILL');
      await second?.stop('SIGKILL');
      await producer.disconnect();
      await reader.close();
      await pool.end();
      await database.drop();
    }
  });
});
