import { type Tier, type TierChanged, tierChangedSchema } from '@taobi/contracts';
import type { Consumer, Kafka } from '@taobi/platform';
import { freePort, ServiceProcess, uniqueId, waitFor } from '@taobi/tests';
import {
  createTierEnvironment,
  read,
  scoreChanged,
  sendScoreChanges,
  type TierEnvironment,
  waitUntilSettled,
} from './harness';

const ENTRY = 'services/tier/src/main.ts';

/**
 * A downstream app as a member centre would write it: its own consumer group, each record parsed
 * against the contract and applied to its view of the member's tier. It does NOT dedupe: the test
 * wants the topic itself to hold each change once. It keeps everything it received so the test can
 * check that.
 */
class MemberCentreApp {
  readonly received: TierChanged[] = [];
  readonly tiers = new Map<string, Tier>();
  /**
   * Changes whose previousTier was not what the app showed (null: the member was not shown yet, as
   * a first assignment says): a lost, repeated or reordered record.
   */
  readonly inconsistencies: string[] = [];
  readonly lastOffsets = new Map<number, bigint>();

  private constructor(private readonly consumer: Consumer) {}

  static async start(kafka: Kafka, topic: string): Promise<MemberCentreApp> {
    const consumer = kafka.consumer({ groupId: uniqueId('member-centre'), maxWaitTimeInMs: 250 });
    const app = new MemberCentreApp(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const change = tierChangedSchema.parse(JSON.parse(message.value?.toString() ?? 'null'));
        app.received.push(change);
        const shown = app.tiers.get(change.memberId) ?? null;
        if (shown !== change.previousTier) {
          app.inconsistencies.push(`${change.eventId}: showed ${shown}, change from ${change.previousTier}`);
        }
        app.tiers.set(change.memberId, change.tier);
        app.lastOffsets.set(partition, BigInt(message.offset));
      },
    });
    return app;
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

/** Every member climbs the same path: version 1 places them, 2, 4, 6, 8 cross 400, 700, 1000, 2500. */
const PATH = [350, 420, 560, 710, 690, 1005, 1400, 2550];
const EXPECTED: [Tier | null, Tier][] = [
  [null, 'BRONZE'],
  ['BRONZE', 'SILVER'],
  ['SILVER', 'GOLD'],
  ['GOLD', 'PLATINUM'],
  ['PLATINUM', 'DIAMOND'],
];

function round(members: readonly string[], version: number) {
  return members.map((m) => scoreChanged(m, version, PATH[version - 1] as number));
}

describe('a downstream app across a tier-service restart (service as a real process)', () => {
  let environment: TierEnvironment;
  let app: MemberCentreApp;

  beforeAll(async () => {
    environment = await createTierEnvironment({ KAFKA_SESSION_TIMEOUT_MS: '8000', LOG_LEVEL: 'info' });
    app = await MemberCentreApp.start(environment.kafka, environment.topics.tierChanged);
  });

  afterAll(async () => {
    await app?.stop();
    await environment?.close();
  });

  async function startProcess(): Promise<{ tier: ServiceProcess; baseUrl: string }> {
    const port = await freePort();
    const tier = ServiceProcess.start(ENTRY, { ...environment.env, PORT: String(port) });
    const baseUrl = `http://127.0.0.1:${port}`;
    await tier.waitUntilListening(baseUrl, 60_000);
    return { tier, baseUrl };
  }

  async function appCaughtUp(): Promise<void> {
    await waitUntilSettled(environment, 60_000);
    const admin = environment.kafka.admin();
    await admin.connect();
    try {
      await waitFor(
        async () => {
          for (const end of await admin.fetchTopicOffsets(environment.topics.tierChanged)) {
            if (end.high === '0') continue;
            if ((app.lastOffsets.get(end.partition) ?? -1n) < BigInt(end.high) - 1n) return false;
          }
          return true;
        },
        { description: 'the member-centre app to read the tier-changed topic to its end' },
      );
    } finally {
      await admin.disconnect();
    }
  }

  function assertEachChangeOnce(
    received: readonly TierChanged[],
    members: readonly string[],
    options: { tolerateRepeats?: boolean } = {},
  ): void {
    const ids = received.map((c) => c.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    if (!options.tolerateRepeats) expect(app.inconsistencies).toEqual([]);
    for (const member of members) {
      const mine = received.filter((c) => c.memberId === member);
      expect(mine.map((c) => [c.previousTier, c.tier])).toEqual(EXPECTED);
      expect(mine.map((c) => c.scoreVersion)).toEqual([1, 2, 4, 6, 8]);
    }
  }

  it('when the service is stopped (SIGTERM) in the middle of a stream and started again, then the app sees every tier change exactly once, in order', async () => {
    const members = Array.from({ length: 200 }, () => uniqueId('m'));
    let { tier, baseUrl } = await startProcess();
    try {
      for (const version of [1, 2]) await sendScoreChanges(environment, round(members, version));
      await waitFor(() => app.received.length > 0, { description: 'the first tier changes' });

      // Stop while a backlog of 600 score changes is being worked through; round 6 arrives while it is down.
      for (const version of [3, 4, 5]) await sendScoreChanges(environment, round(members, version));
      const stopping = tier.stop('SIGTERM');
      expect((await stopping).code).toBe(0);
      expect(tier.output).toContain('shut down cleanly');
      const beforeRestart = app.received.length;
      await sendScoreChanges(environment, round(members, 6));

      ({ tier, baseUrl } = await startProcess());
      // Round 3 again (a replay upstream), then the rest.
      await sendScoreChanges(environment, [...round(members, 3), ...round(members, 7), ...round(members, 8)]);
      await waitFor(() => app.received.length >= members.length * EXPECTED.length, {
        timeoutMs: 60_000,
        description: `${members.length * EXPECTED.length} tier changes (have ${app.received.length})`,
      });
      await appCaughtUp();

      // Changes were published on both sides of the restart (round 6's only after it).
      expect(beforeRestart).toBeGreaterThan(0);
      expect(beforeRestart).toBeLessThan(members.length * EXPECTED.length);
      expect(app.received).toHaveLength(members.length * EXPECTED.length);
      assertEachChangeOnce(app.received, members);
      const sample = members[7] as string;
      const response = await fetch(`${baseUrl}/v1/members/${sample}/tier`, { headers: read });
      expect(await response.json()).toMatchObject({ tier: 'DIAMOND', score: 2550 });
      expect(app.tiers.get(sample)).toBe('DIAMOND');
    } finally {
      await tier.stop('SIGKILL');
    }
  });

  it('when the service is killed (SIGKILL) mid-stream, then after restart nothing is lost, and by eventId each change is seen once', async () => {
    const members = Array.from({ length: 200 }, () => uniqueId('k'));
    const mine = () => app.received.filter((c) => c.memberId.startsWith('k-'));
    let { tier } = await startProcess();
    try {
      for (const version of [1, 2]) await sendScoreChanges(environment, round(members, version));
      await waitFor(() => mine().length > 0, { description: 'the first tier changes' });
      for (const version of [3, 4, 5, 6]) await sendScoreChanges(environment, round(members, version));
      await tier.stop('SIGKILL');
      ({ tier } = await startProcess());
      await sendScoreChanges(environment, [...round(members, 7), ...round(members, 8)]);
      await waitFor(() => new Set(mine().map((c) => c.eventId)).size >= members.length * EXPECTED.length, {
        timeoutMs: 60_000,
        description: 'every tier change after the crash',
      });
      await appCaughtUp();

      // A crash between Kafka's ack and the outbox's mark may publish a record again, with the
      // same eventId (documented): the app dedupes on it and then sees each change once, in order.
      const seen = new Set<string>();
      const deduped = mine().filter((c) => !seen.has(c.eventId) && seen.add(c.eventId));
      expect(deduped).toHaveLength(members.length * EXPECTED.length);
      assertEachChangeOnce(deduped, members, { tolerateRepeats: true });
    } finally {
      await tier.stop('SIGKILL');
    }
  });
});
