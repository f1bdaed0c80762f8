import {
  type Category,
  type ConsumptionEvent,
  consumptionEventId,
  type OrderRefunded,
  type ScoreChanged,
  type Source,
} from '@taobi/contracts';
import { createPool, loadConfig, type Pool, publish, type Service } from '@taobi/platform';
import {
  createServiceStage,
  type ServiceStage,
  TopicReader,
  testLogger,
  waitFor,
  waitUntilConsumed,
} from '@taobi/tests';
import { buildScoringService, type ScoringDependencies } from '../src/app';
import { type ScoringConfig, scoringConfigSchema } from '../src/config';

export const READ = { authorization: 'Bearer dev-read-key' };
export const ADMIN = { authorization: 'Bearer dev-admin-key' };

/** What a scoring test needs: its own topics, database, Redis prefix and consumer group. */
export interface Stage extends ServiceStage {
  db: Pool;
  config: ScoringConfig;
  scoreChanged: TopicReader<ScoreChanged>;
}

export async function createStage(extraEnv: Record<string, string> = {}): Promise<Stage> {
  const stage = await createServiceStage('scoring', { EVALUATION_SCHEDULE_ENABLED: 'off', ...extraEnv });
  // The platform's pool: an idle client cut off when the test database is dropped is logged, not an
  // unhandled error that fails the test file.
  const db = createPool({
    connectionString: stage.databaseUrl,
    logger: testLogger('scoring-test'),
    applicationName: 'scoring-test',
    max: 3,
  });
  const scoreChanged = await TopicReader.start<ScoreChanged>(stage.topics.scoreChanged, stage.kafka);
  return {
    ...stage,
    db,
    config: loadConfig(scoringConfigSchema, stage.env),
    scoreChanged,
    async close() {
      await scoreChanged.close();
      await db.end();
      await stage.close();
    },
  };
}

/** An in-process scoring service on the stage; started. */
export async function startScoring(stage: Stage, dependencies: ScoringDependencies = {}): Promise<Service> {
  const service = buildScoringService(stage.config, testLogger('scoring'), dependencies);
  await service.start();
  return service;
}

/** What `scoringSuite` sets up, set in the suite's `beforeAll` (read it inside a test or a later hook). */
export interface ScoringSuite {
  stage: Stage;
  service: Service;
}

/**
 * A stage and a started scoring service for the tests of the calling `describe` block: made in its
 * `beforeAll`, stopped and closed in its `afterAll`.
 */
export function scoringSuite(options: { env?: Record<string, string> } = {}): ScoringSuite {
  const suite = {} as ScoringSuite;
  beforeAll(async () => {
    suite.stage = await createStage(options.env);
    suite.service = await startScoring(suite.stage);
  });
  afterAll(async () => {
    await suite.service?.stop();
    await suite.stage?.close();
  });
  return suite;
}

let sequence = 0;
const nextId = (prefix: string) => {
  sequence += 1;
  return `${prefix}-${Date.now().toString(36)}-${sequence}`;
};

/** A canonical completed order, as the ingest services produce it. */
export function order(input: {
  memberId: string;
  source?: Source;
  category?: Category;
  channel?: string;
  amount: number;
  occurredAt?: string;
  orderId?: string;
}): ConsumptionEvent {
  const source = input.source ?? 'ecommerce';
  const orderId = input.orderId ?? nextId('o');
  const channel =
    input.channel ??
    { ecommerce: 'tmall', food: 'eleme', travel: 'fliggy', mobility: 'ride-hailing' }[source];
  const category =
    input.category ?? { ecommerce: 'physical', food: 'meal', travel: 'flight', mobility: 'ride' }[source];
  return {
    eventId: consumptionEventId(source, 'completed', orderId),
    schemaVersion: 1,
    kind: 'completed',
    source,
    channel: channel as ConsumptionEvent['channel'] & string,
    category: category as Category,
    memberId: input.memberId,
    orderId,
    amount: input.amount,
    currency: 'CNY',
    occurredAt: input.occurredAt ?? new Date().toISOString(),
    receivedAt: new Date().toISOString(),
  } as ConsumptionEvent;
}

/** A canonical refund of `of`. */
export function refund(
  of: ConsumptionEvent,
  amount: number,
  refundId = nextId(`${of.orderId}-rf`),
): OrderRefunded {
  return {
    eventId: consumptionEventId(of.source, 'refunded', refundId),
    schemaVersion: 1,
    kind: 'refunded',
    source: of.source,
    memberId: of.memberId,
    orderId: of.orderId,
    refundId,
    amount,
    currency: 'CNY',
    occurredAt: of.occurredAt,
    receivedAt: new Date().toISOString(),
  };
}

export async function produce(stage: Stage, events: readonly unknown[]): Promise<void> {
  await publish(
    stage.producer,
    events.map((value) => ({
      topic: stage.topics.consumption,
      key: (value as { memberId?: string }).memberId ?? null,
      value,
    })),
  );
}

/**
 * Waits until the ledger holds `eventIds` (orders or refunds). The ledger does not store event ids:
 * they are derived from its keys, as the service does.
 */
export async function waitForLedger(
  stage: Stage,
  eventIds: readonly string[],
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(
    async () => {
      const { rows } = await stage.db
        .query<{ source: Source; kind: 'completed' | 'refunded'; id: string }>(
          `SELECT s.label AS source, l.kind, l.id
           FROM (SELECT source_code, 'completed' AS kind, order_id AS id FROM scoring.orders
                 UNION ALL SELECT source_code, 'refunded', refund_id FROM scoring.refunds) l
           JOIN scoring.labels s ON s.code = l.source_code`,
        )
        .catch(() => ({ rows: [] }));
      const held = new Set(rows.map((row) => consumptionEventId(row.source, row.kind, row.id)));
      return eventIds.every((id) => held.has(id));
    },
    { timeoutMs, description: `${eventIds.length} event(s) in the ledger` },
  );
}

/** Waits until the group has committed offsets past every record on the consumption topic. */
export async function waitForDrained(
  stage: Stage,
  groupId = stage.config.KAFKA_GROUP_ID,
  timeoutMs = 60_000,
) {
  await waitUntilConsumed(stage.kafka, groupId, stage.topics.consumption, timeoutMs);
}

export function scoreRecordsOf(stage: Stage, memberId: string): ScoreChanged[] {
  return stage.scoreChanged.matching((r) => r.key === memberId).map((r) => r.value);
}

/** Waits until the relay has published everything in the outbox. */
export async function waitForOutboxPublished(stage: Stage, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    async () => {
      const { rows } = await stage.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM scoring.outbox WHERE published_at IS NULL',
      );
      return rows[0]?.n === 0;
    },
    { timeoutMs, description: 'the outbox to be published' },
  );
}

/** Produces `events` and waits until scoring has folded them, committed its offsets and published. */
export async function produceAndFold(stage: Stage, events: readonly ConsumptionEvent[]): Promise<void> {
  await produce(stage, events);
  await waitForLedger(
    stage,
    events.map((e) => e.eventId),
  );
  await waitForDrained(stage);
  await waitForOutboxPublished(stage);
}
