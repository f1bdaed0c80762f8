import {
  type ConsumptionEvent,
  consumerGroups,
  consumptionEventId,
  type Source,
  type TierChanged,
  type TopicNames,
} from '@taobi/contracts';
import {
  connectProducer,
  consumerGroupLag,
  createPool,
  type Kafka,
  loadConfig,
  type Pool,
  type Producer,
  publish,
  type Service,
} from '@taobi/platform';
import type { RuleSet } from '@taobi/rules';
import { buildEntitlementService } from '../../services/entitlement/src/app';
import { entitlementConfigSchema } from '../../services/entitlement/src/config';
import { buildScoringService } from '../../services/scoring/src/app';
import { scoringConfigSchema } from '../../services/scoring/src/config';
import { buildTierService } from '../../services/tier/src/app';
import { tierConfigSchema } from '../../services/tier/src/config';
import {
  createTestDatabase,
  createTestTopics,
  type TestClock,
  TopicReader,
  testEndpoints,
  testKafka,
  testLogger,
  uniqueId,
  waitFor,
} from '../support';

export const READ = { authorization: 'Bearer dev-read-key' };
export const ADMIN = { authorization: 'Bearer dev-admin-key' };

// biome-ignore lint/suspicious/noExplicitAny: tests read the public APIs' JSON answers field by field
type ApiAnswer = any;

/**
 * Scoring, tier and entitlement in this process, listening on ports of their own, over the real
 * Kafka, Postgres and Redis under names of this programme's own, all three on one clock the test
 * moves: the way a test walks a member through months and evaluations. Tier reads scoring's
 * rule-set registry over HTTP, as in production.
 */
export class Programme {
  private constructor(
    readonly clock: TestClock,
    readonly kafka: Kafka,
    readonly prefix: string,
    readonly topics: TopicNames,
    readonly databaseUrl: string,
    readonly pool: Pool,
    private readonly producer: Producer,
    private readonly tierReader: TopicReader<TierChanged>,
    private readonly services: Record<'scoring' | 'tier' | 'entitlement', { service: Service; url: string }>,
    private readonly dropDatabase: () => Promise<void>,
  ) {}

  static async start(clock: TestClock, options: { rules?: RuleSet } = {}): Promise<Programme> {
    const kafka = testKafka();
    const { prefix, topics } = await createTestTopics(kafka);
    const database = await createTestDatabase();
    const env = {
      TAOBI_ENV: 'test',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      KAFKA_BROKERS: testEndpoints().kafkaBrokers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      DATABASE_URL: database.url,
      REDIS_URL: testEndpoints().redisUrl,
      REDIS_KEY_PREFIX: `${uniqueId('programme')}:`,
      OUTBOX_POLL_INTERVAL_MS: '50',
    };
    const listen = async (service: Service) => {
      await service.start();
      await service.app.listen({ port: 0, host: '127.0.0.1' });
      const address = service.app.server.address();
      if (!address || typeof address === 'string') throw new Error('no port');
      return { service, url: `http://127.0.0.1:${address.port}` };
    };
    const scoring = await listen(
      buildScoringService(
        loadConfig(scoringConfigSchema, { ...env, EVALUATION_SCHEDULE_ENABLED: 'off' }),
        testLogger('scoring'),
        { now: clock.now, ...(options.rules ? { rules: options.rules } : {}) },
      ),
    );
    const tier = await listen(
      buildTierService(
        loadConfig(tierConfigSchema, {
          ...env,
          EVALUATION_SCHEDULE_ENABLED: 'false',
          TAOBI_SCORING_URL: scoring.url,
        }),
        testLogger('tier'),
        {
          now: clock.now,
          ...(options.rules ? { ruleSet: options.rules } : {}),
        },
      ),
    );
    const entitlement = await listen(
      buildEntitlementService(
        loadConfig(entitlementConfigSchema, { ...env, PERIODIC_SCHEDULE_ENABLED: 'false' }),
        testLogger('entitlement'),
        { now: clock.now },
      ),
    );
    const pool = createPool({
      connectionString: database.url,
      logger: testLogger(),
      applicationName: 'time-test',
    });
    return new Programme(
      clock,
      kafka,
      prefix,
      topics,
      database.url,
      pool,
      await connectProducer(kafka),
      await TopicReader.start<TierChanged>(topics.tierChanged, kafka),
      { scoring, tier, entitlement },
      database.drop,
    );
  }

  url(service: 'scoring' | 'tier' | 'entitlement'): string {
    return this.services[service].url;
  }

  /** `TAOBI_<SERVICE>_URL` of the three services, for a client such as the CLI. */
  get urlEnv(): Record<string, string> {
    return {
      TAOBI_SCORING_URL: this.url('scoring'),
      TAOBI_TIER_URL: this.url('tier'),
      TAOBI_ENTITLEMENT_URL: this.url('entitlement'),
    };
  }

  /** The tier-changed records of a member on the topic, in order (once the programme settled). */
  async tierChanges(memberId: string): Promise<TierChanged[]> {
    await this.tierReader.waitUntilCaughtUp(30_000);
    return this.tierReader.matching((r) => r.key === memberId).map((r) => r.value);
  }

  /** Puts consumption records on the topic, as the ingest services would. */
  async produce(events: readonly ConsumptionEvent[]): Promise<void> {
    await publish(
      this.producer,
      events.map((value) => ({ topic: this.topics.consumption, key: value.memberId, value })),
    );
  }

  /** Waits until every service has consumed everything and published its outbox. */
  async settle(timeoutMs = 30_000): Promise<void> {
    const groups = consumerGroups(this.prefix);
    await waitFor(
      async () => {
        if ((await consumerGroupLag(this.kafka, groups)) > 0) return false;
        const { rows } = await this.pool.query<{ n: number }>(
          `SELECT (SELECT count(*) FROM scoring.outbox WHERE published_at IS NULL)
                + (SELECT count(*) FROM tier.outbox WHERE published_at IS NULL)
                + (SELECT count(*) FROM entitlement.outbox WHERE published_at IS NULL) AS n`,
        );
        return Number(rows[0]?.n) === 0;
      },
      { timeoutMs, description: 'scoring, tier and entitlement to settle' },
    );
    // A last look: what the relays published may have started new batches downstream.
    await waitFor(async () => (await consumerGroupLag(this.kafka, groups)) === 0, {
      timeoutMs,
      description: 'every consumer group to be caught up',
    });
  }

  async read(service: 'scoring' | 'tier' | 'entitlement', path: string): Promise<ApiAnswer> {
    const response = await fetch(`${this.url(service)}${path}`, { headers: READ });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`${service} ${path} answered ${response.status}: ${text}`);
    return JSON.parse(text);
  }

  async call(
    service: 'scoring' | 'tier' | 'entitlement',
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = ADMIN,
  ): Promise<{ status: number; body: ApiAnswer }> {
    const response = await fetch(`${this.url(service)}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  /** The monthly evaluation at the clock's instant, on scoring then tier (as `pnpm taobi evaluate`). */
  async evaluate(): Promise<void> {
    const asOf = this.clock.now().toISOString();
    const scoring = await this.call('scoring', 'POST', '/v1/admin/evaluations', { asOf });
    if (scoring.status !== 200) throw new Error(`scoring evaluation: ${JSON.stringify(scoring.body)}`);
    await this.settle();
    const tier = await this.call('tier', 'POST', '/v1/admin/evaluations', { asOf });
    if (tier.status !== 200) throw new Error(`tier evaluation: ${JSON.stringify(tier.body)}`);
    await this.settle();
  }

  async stop(): Promise<void> {
    for (const { service } of Object.values(this.services).reverse()) {
      await service.app.close();
      await service.stop();
    }
    await this.producer.disconnect();
    await this.tierReader.close();
    await this.pool.end();
    await this.dropDatabase();
  }
}

let sequence = 0;

/** A canonical completed order, as an ingest service puts it on the topic. */
export function order(
  memberId: string,
  input: { amount: number; occurredAt: string; source?: Source; category?: string; channel?: string },
): ConsumptionEvent {
  sequence += 1;
  const source = input.source ?? 'ecommerce';
  const orderId = `${memberId}-o${sequence}`;
  return {
    eventId: consumptionEventId(source, 'completed', orderId),
    schemaVersion: 1,
    kind: 'completed',
    source,
    channel: input.channel ?? 'tmall',
    category: input.category ?? 'physical',
    memberId,
    orderId,
    amount: input.amount,
    currency: 'CNY',
    occurredAt: new Date(input.occurredAt).toISOString(),
    receivedAt: new Date(input.occurredAt).toISOString(),
  } as ConsumptionEvent;
}

/** A canonical full refund of `of`, as an ingest service puts it on the topic. */
export function refund(of: ConsumptionEvent, occurredAt: string): ConsumptionEvent {
  sequence += 1;
  const refundId = `${of.orderId}-r${sequence}`;
  return {
    eventId: consumptionEventId(of.source, 'refunded', refundId),
    schemaVersion: 1,
    kind: 'refunded',
    source: of.source,
    memberId: of.memberId,
    orderId: of.orderId,
    refundId,
    amount: of.amount,
    currency: 'CNY',
    occurredAt: new Date(occurredAt).toISOString(),
    receivedAt: new Date(occurredAt).toISOString(),
  } as ConsumptionEvent;
}
