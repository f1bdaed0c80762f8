import type { Service } from '@taobi/platform';
import { freePort, metricValue, ServiceProcess, uniqueId, waitFor } from '@taobi/tests';
import {
  createStage,
  order,
  produce,
  produceAndFold,
  READ,
  refund,
  type Stage,
  scoreRecordsOf,
  startScoring,
  waitForDrained,
  waitForLedger,
  waitForOutboxPublished,
} from './harness';

const MAIN = 'services/scoring/src/main.ts';

async function committedOffsets(stage: Stage): Promise<Map<number, bigint>> {
  const admin = stage.kafka.admin();
  await admin.connect();
  try {
    const [result] = await admin.fetchOffsets({
      groupId: stage.config.KAFKA_GROUP_ID,
      topics: [stage.topics.consumption],
    });
    return new Map((result?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

const countedMetric = (metrics: string, outcome: string): number =>
  metricValue(metrics, 'taobi_scoring_events_total', { outcome }) ?? 0;

describe('delivery: nothing counted twice', () => {
  it('when the consumer is killed between the Postgres commit and the offset commit, then the restarted one does not double count', async () => {
    const stage = await createStage();
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    // A short session lets the restarted consumer take over the dead one's partitions quickly.
    const env = { ...stage.env, PORT: String(port), LOG_LEVEL: 'info', KAFKA_SESSION_TIMEOUT_MS: '6000' };
    let process = ServiceProcess.start(MAIN, { ...env, FAULT_KILL_AFTER_COMMITS: '1' });
    try {
      await process.waitUntilListening(baseUrl);
      const member = uniqueId('m');
      const first = order({ memberId: member, amount: 80_000 });
      const events = [
        first,
        order({ memberId: member, source: 'food', amount: 6_000 }),
        refund(first, 40_000),
      ];
      await produce(stage, events);

      const { signal } = await process.exited;
      expect(signal).toBe('SIGKILL');
      expect(process.output).toContain('fault injection: killing the process before the offset commit');
      // The batch's transaction committed; its offsets did not.
      const { rows } = await stage.db.query<{ n: number }>(
        `SELECT (SELECT count(*) FROM scoring.orders WHERE member_id = $1)
              + (SELECT count(*) FROM scoring.refunds WHERE member_id = $1) AS n`,
        [member],
      );
      expect(Number(rows[0]?.n)).toBeGreaterThan(0);
      const offsets = await committedOffsets(stage);
      expect([...offsets.values()].every((offset) => offset <= 0n)).toBe(true);

      process = ServiceProcess.start(MAIN, env);
      await process.waitUntilListening(baseUrl);
      await waitForLedger(
        stage,
        events.map((e) => e.eventId),
      );
      await waitForDrained(stage);
      await waitForOutboxPublished(stage);
      const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
      expect(countedMetric(metrics, 'duplicate')).toBeGreaterThan(0);

      // 800 CNY net 400: 10 + 1; a 60 CNY meal: 1 + 1.
      const body = (await (
        await fetch(`${baseUrl}/v1/members/${member}/score`, { headers: READ })
      ).json()) as {
        score: number;
        breakdown: unknown;
      };
      expect(body.score).toBe(313);
      expect(body.breakdown).toEqual({ base: 300, ecommerce: 11, food: 2, travel: 0, mobility: 0 });
      const records = await waitFor(() => {
        const found = scoreRecordsOf(stage, member);
        return found.at(-1)?.score === 313 ? found : undefined;
      });
      // A record published before the kill may be published again after it, with the same eventId;
      // each version has one content, and versions have no gaps.
      const byVersion = new Map(records.map((r) => [r.version, r.score]));
      for (const record of records) expect(byVersion.get(record.version)).toBe(record.score);
      expect([...byVersion.keys()].sort()).toEqual([...byVersion.keys()].map((_, i) => i + 1));
    } finally {
      await process.stop();
      await stage.close();
    }
  });

  it('when the same batches are delivered again (offsets reset to the start), then no score changes and nothing is published', async () => {
    const stage = await createStage();
    let service: Service | undefined = await startScoring(stage);
    try {
      const members = [uniqueId('m'), uniqueId('m'), uniqueId('m')];
      const events = members.flatMap((memberId, i) => {
        const placed = order({ memberId, amount: 30_000 * (i + 1) });
        return [placed, order({ memberId, source: 'mobility', amount: 3_000 }), refund(placed, 10_000)];
      });
      await produceAndFold(stage, events);
      const before = await stage.db.query(
        'SELECT member_id, version, score FROM scoring.members ORDER BY member_id',
      );
      const outboxRows = await stage.db.query<{ n: number }>('SELECT count(*)::int AS n FROM scoring.outbox');
      const published = outboxRows.rows[0]?.n ?? -1;
      await waitFor(() => stage.scoreChanged.records.length === published, {
        description: `the reader to see the ${published} published records`,
      });
      await service.stop();
      service = undefined;

      const admin = stage.kafka.admin();
      await admin.connect();
      await admin.resetOffsets({
        groupId: stage.config.KAFKA_GROUP_ID,
        topic: stage.topics.consumption,
        earliest: true,
      });
      await admin.disconnect();

      service = await startScoring(stage);
      await waitForDrained(stage);
      const metrics = await service.app.inject({ url: '/metrics' });
      expect(countedMetric(metrics.body, 'duplicate')).toBe(events.length);
      expect(countedMetric(metrics.body, 'counted')).toBe(0);
      const after = await stage.db.query(
        'SELECT member_id, version, score FROM scoring.members ORDER BY member_id',
      );
      expect(after.rows).toEqual(before.rows);
      const outbox = await stage.db.query('SELECT count(*)::int AS n FROM scoring.outbox');
      expect(outbox.rows[0].n).toBe(published);
      expect(stage.scoreChanged.records.length).toBe(published);
    } finally {
      await service?.stop();
      await stage.close();
    }
  });
});
