import {
  type ScoreChanged,
  type ScoreChangeReason,
  scoreChangedEventId,
  scoreChangedSchema,
  type TierChanged,
} from '@taobi/contracts';
import { createPool, loadConfig, type Pool, publish } from '@taobi/platform';
import { nextEvaluationAt } from '@taobi/rules';
import { createServiceStage, type ServiceStage, TopicReader, testLogger, waitFor } from '@taobi/tests';
import { buildTierService, type TierService, type TierServiceOptions } from '../src/app';
import { type TierConfig, tierConfigSchema } from '../src/config';

export const READ_KEY = 'test-read-key-0001';
export const ADMIN_KEY = 'test-admin-key-0001';
export const read = { authorization: `Bearer ${READ_KEY}` };
export const admin = { authorization: `Bearer ${ADMIN_KEY}` };

/** The evaluation scoring's records point at by default: the next 8th, 00:00 Asia/Shanghai. */
export const NEXT_EVALUATION = nextEvaluationAt(new Date(), 8).toISOString();

/** A valid `taobi.score-changed.v1` record, as the scoring service writes it. */
export function scoreChanged(
  memberId: string,
  version: number,
  score: number,
  options: {
    previousScore?: number;
    reason?: ScoreChangeReason;
    expiring?: number;
    evaluationAt?: string;
    occurredAt?: string;
    /** The refunds that caused it (a refund's score change). */
    refundEventIds?: string[];
  } = {},
): ScoreChanged {
  return scoreChangedSchema.parse({
    eventId: scoreChangedEventId(memberId, version),
    schemaVersion: 1,
    memberId,
    occurredAt: options.occurredAt ?? new Date().toISOString(),
    version,
    previousScore: options.previousScore ?? 300,
    score,
    breakdown: {
      base: Math.min(300, score),
      ecommerce: Math.max(0, score - 300),
      food: 0,
      travel: 0,
      mobility: 0,
    },
    reason: options.reason ?? 'consumption',
    causeEventIds: options.refundEventIds ?? [],
    ...(options.refundEventIds ? { refundEventIds: options.refundEventIds } : {}),
    ruleVersion: '2026.1',
    window: { from: '2025-12', to: '2026-11' },
    expiringAtNextEvaluation: {
      points: options.expiring ?? 0,
      evaluationAt: options.evaluationAt ?? NEXT_EVALUATION,
    },
  } satisfies ScoreChanged);
}

/** Topics, database, Redis prefix and group of one test file, and a config pointing at them. */
export interface TierEnvironment extends ServiceStage {
  config: TierConfig;
  pool: Pool;
  tierChanges: TopicReader<TierChanged>;
}

export async function createTierEnvironment(extraEnv: Record<string, string> = {}): Promise<TierEnvironment> {
  const stage = await createServiceStage('tier', {
    READ_API_KEYS: READ_KEY,
    ADMIN_API_KEYS: ADMIN_KEY,
    EVALUATION_SCHEDULE_ENABLED: 'false',
    OUTBOX_POLL_INTERVAL_MS: '50',
    // Tier alone: its configured rule set is the only one (no scoring registry to read).
    RULE_SETS_FROM: 'file',
    ...extraEnv,
  });
  const pool = createPool({
    connectionString: stage.databaseUrl,
    logger: testLogger(),
    applicationName: 'tier-test',
  });
  const tierChanges = await TopicReader.start<TierChanged>(stage.topics.tierChanged, stage.kafka);
  return {
    ...stage,
    config: loadConfig(tierConfigSchema, stage.env),
    pool,
    tierChanges,
    async close() {
      await tierChanges.close();
      await pool.end();
      await stage.close();
    },
  };
}

/** Builds and starts the service in this process. */
export async function startTier(
  environment: TierEnvironment,
  options: TierServiceOptions & { config?: Partial<TierConfig> } = {},
): Promise<TierService> {
  const { config, ...serviceOptions } = options;
  const service = buildTierService({ ...environment.config, ...config }, testLogger('tier'), serviceOptions);
  await service.start();
  return service;
}

/** What `tierSuite` sets up, set in the suite's `beforeAll` (read it inside a test or a later hook). */
export interface TierSuite {
  environment: TierEnvironment;
  service: TierService;
}

/**
 * A tier environment and a started service for the tests of the calling `describe` block: made in
 * its `beforeAll` (after the hooks declared before this call, so `env` may point at what they made),
 * stopped and closed in its `afterAll` (before the hooks declared after this call).
 */
export function tierSuite(
  options: { env?: () => Record<string, string>; service?: Parameters<typeof startTier>[1] } = {},
): TierSuite {
  const suite = {} as TierSuite;
  beforeAll(async () => {
    suite.environment = await createTierEnvironment(options.env?.());
    suite.service = await startTier(suite.environment, options.service);
  });
  afterAll(async () => {
    await suite.service?.stop();
    await suite.environment?.close();
  });
  return suite;
}

export async function sendScoreChanges(
  environment: TierEnvironment,
  records: readonly ScoreChanged[],
): Promise<void> {
  await publish(
    environment.producer,
    records.map((record) => ({
      topic: environment.topics.scoreChanged,
      key: record.memberId,
      value: record,
    })),
  );
}

/** The tier changes of one member seen on the topic so far, in topic order. */
export function changesOf(environment: TierEnvironment, memberId: string): TierChanged[] {
  return environment.tierChanges.matching((r) => r.key === memberId).map((r) => r.value);
}

/**
 * Waits until nothing more can arrive: the service's group has committed every score change, its
 * outbox is empty, and the reader has read the tier-changed topic to its end. Only then can a test
 * say a record was *not* published.
 */
export async function waitUntilSettled(environment: TierEnvironment, timeoutMs = 30_000): Promise<void> {
  const admin = environment.kafka.admin();
  await admin.connect();
  try {
    await waitFor(
      async () => {
        const ends = await admin.fetchTopicOffsets(environment.topics.scoreChanged);
        const [committed] = await admin.fetchOffsets({
          groupId: environment.config.KAFKA_GROUP_ID,
          topics: [environment.topics.scoreChanged],
        });
        for (const end of ends) {
          const done = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
          if (end.high !== '0' && BigInt(done) < BigInt(end.high)) return false;
        }
        const pending = await environment.pool
          .query('SELECT count(*)::int AS n FROM tier.outbox WHERE published_at IS NULL')
          .catch(() => ({ rows: [{ n: 0 }] }));
        return pending.rows[0]?.n === 0;
      },
      { timeoutMs, description: 'the tier service to be caught up' },
    );
  } finally {
    await admin.disconnect();
  }
  await environment.tierChanges.waitUntilCaughtUp(timeoutMs);
}
