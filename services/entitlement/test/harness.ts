import { DEFAULT_CATALOGUE, welcomeGift } from '@taobi/benefits';
import {
  type EntitlementChanged,
  type Tier,
  type TierChanged,
  type TopicNames,
  tierChangedSchema,
  tierRank,
} from '@taobi/contracts';
import {
  createPool,
  type Kafka,
  loadConfig,
  type Pool,
  type Producer,
  publish,
  type Service,
} from '@taobi/platform';
import {
  createServiceStage,
  TestClock,
  TopicReader,
  testLogger,
  waitFor,
  waitUntilConsumed,
} from '@taobi/tests';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildEntitlementService, type EntitlementOptions } from '../src/app';
import { type EntitlementConfig, entitlementConfigSchema } from '../src/config';

export const READ = { authorization: 'Bearer dev-read-key' };
export const ADMIN = { authorization: 'Bearer dev-admin-key' };
export const CHECKOUT = { authorization: 'Bearer dev-checkout-key' };
/** Bound to merchant `dev-merchant` (resp. `dev-merchant-2`). */
export const MERCHANT = { authorization: 'Bearer dev-merchant-key' };
export const MERCHANT_2 = { authorization: 'Bearer dev-merchant-2-key' };

/**
 * The welcome-gift lottery's benefit: a member placed or raised in a tier may win its voucher (5% at
 * Bronze), so tests of what a tier grants leave it out.
 */
export const LOTTERY = welcomeGift(DEFAULT_CATALOGUE).id;

export { TestClock };

/**
 * One entitlement service in-process against the real Kafka and Postgres, with topics, database and
 * consumer group of its own, a producer for tier-changed records and a reader of what it publishes.
 */
export class Harness {
  service!: Service;
  private constructor(
    readonly kafka: Kafka,
    readonly topics: TopicNames,
    readonly config: EntitlementConfig,
    readonly pool: Pool,
    readonly producer: Producer,
    readonly reader: TopicReader<EntitlementChanged>,
    readonly clock: TestClock,
    private readonly closeStage: () => Promise<void>,
    private readonly options: EntitlementOptions,
  ) {}

  static async start(
    options: { clock?: TestClock; env?: Record<string, string>; service?: EntitlementOptions } = {},
  ): Promise<Harness> {
    const stage = await createServiceStage('entitlement', {
      PERIODIC_SCHEDULE_ENABLED: 'false',
      OUTBOX_POLL_INTERVAL_MS: '50',
      ...options.env,
    });
    const { kafka, topics, producer } = stage;
    const config = loadConfig(entitlementConfigSchema, stage.env);
    const clock = options.clock ?? new TestClock(new Date('2026-11-18T04:00:00Z'));
    const pool = createPool({
      connectionString: stage.databaseUrl,
      logger: testLogger(),
      applicationName: 'test',
    });
    const reader = await TopicReader.start<EntitlementChanged>(topics.entitlementChanged, kafka);
    const serviceOptions = { now: clock.now, ...options.service };
    const harness = new Harness(
      kafka,
      topics,
      config,
      pool,
      producer,
      reader,
      clock,
      stage.close,
      serviceOptions,
    );
    await harness.startService();
    return harness;
  }

  /** Starts a (new) service instance on the same database, optionally in another consumer group. */
  async startService(groupId = this.config.KAFKA_GROUP_ID): Promise<Service> {
    this.service = buildEntitlementService(
      { ...this.config, KAFKA_GROUP_ID: groupId },
      testLogger('entitlement'),
      this.options,
    );
    await this.service.start();
    return this.service;
  }

  async stopService(): Promise<void> {
    await this.service.stop();
  }

  async produce(records: readonly TierChanged[]): Promise<void> {
    await publish(
      this.producer,
      records.map((record) => ({
        topic: this.topics.tierChanged,
        key: record.memberId,
        value: tierChangedSchema.parse(record),
      })),
    );
  }

  /** Waits until `groupId` has committed every tier-changed record produced so far. */
  async waitUntilConsumed(groupId = this.config.KAFKA_GROUP_ID, timeoutMs = 30_000): Promise<void> {
    await waitUntilConsumed(this.kafka, groupId, this.topics.tierChanged, timeoutMs);
  }

  /** Waits until the outbox has published every row and the reader has read all of it. */
  async waitUntilPublished(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      async () => {
        const { rows } = await this.pool.query(
          'SELECT count(*)::int AS n FROM entitlement.outbox WHERE published_at IS NULL',
        );
        return rows[0].n === 0;
      },
      { timeoutMs, description: 'the entitlement outbox to be published' },
    );
    await this.reader.waitUntilCaughtUp(timeoutMs);
  }

  /** Serves the app over real HTTP on a free port (closed by `close`); returns its base URL. */
  async listen(): Promise<string> {
    return this.service.app.listen({ port: 0, host: '127.0.0.1' });
  }

  inject(options: InjectOptions): Promise<LightMyRequestResponse> {
    return this.service.app.inject(options);
  }

  async entitlements(memberId: string) {
    const response = await this.inject({
      method: 'GET',
      url: `/v1/members/${memberId}/entitlements`,
      headers: READ,
    });
    expect(response.statusCode).toBe(200);
    return response.json() as {
      tier: Tier;
      entitlements: { id: string; benefitId: string; kind: string; status: string; period: string | null }[];
    };
  }

  /** Records published for a member, by action. */
  published(memberId: string, action?: string) {
    return this.reader
      .matching((r) => r.key === memberId && (action === undefined || r.value.action === action))
      .map((r) => r.value);
  }

  async close(): Promise<void> {
    await this.service.app.close().catch(() => undefined);
    await this.service.stop().catch(() => undefined);
    await this.reader.close();
    await this.pool.end();
    await this.closeStage();
  }
}

/** A member's first assignment as the tier service writes it (direction `initial`, no previous tier). */
export function firstAssignment(
  memberId: string,
  tier: Tier,
  options: { scoreVersion?: number; occurredAt?: string; score?: number } = {},
): TierChanged {
  const scoreVersion = options.scoreVersion ?? 1;
  return {
    eventId: `tier:${memberId}:score:${scoreVersion}`,
    schemaVersion: 1,
    memberId,
    occurredAt:
      options.occurredAt ??
      new Date(Date.parse('2026-11-18T03:00:00Z') + scoreVersion * 60_000).toISOString(),
    previousTier: null,
    tier,
    direction: 'initial',
    score: options.score ?? [300, 400, 700, 1000, 2500, 5000][tierRank(tier)] ?? 0,
    scoreVersion,
    reason: 'first-score',
  };
}

/**
 * A tier-changed record as the tier service writes it: a stable eventId from member and score
 * version (and the tier, since evaluations may lower a tier twice on one score version).
 */
export function tierChange(
  memberId: string,
  from: Tier,
  to: Tier,
  scoreVersion: number,
  options: { occurredAt?: string; reason?: TierChanged['reason']; score?: number } = {},
): TierChanged {
  const down = tierRank(to) < tierRank(from);
  return {
    eventId: `tier:${memberId}:${scoreVersion}:${to}`,
    schemaVersion: 1,
    memberId,
    occurredAt:
      options.occurredAt ??
      new Date(Date.parse('2026-11-18T03:00:00Z') + scoreVersion * 60_000).toISOString(),
    previousTier: from,
    tier: to,
    direction: down ? 'down' : 'up',
    score: options.score ?? [300, 400, 700, 1000, 2500, 5000][tierRank(to)] ?? 0,
    scoreVersion,
    reason: options.reason ?? (down ? 'monthly-evaluation' : 'score-increase'),
  };
}
