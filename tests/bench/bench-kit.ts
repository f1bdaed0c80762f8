/**
 * What the scoring and backtest benchmarks share: a deterministic backlog, a scratch Kafka prefix,
 * database and Redis prefix (removed at the end), and the live fold, timed: the real scoring
 * service draining the backlog until its committed offsets reach the end of every partition.
 */
import { randomBytes } from 'node:crypto';
import {
  type ConsumptionEvent,
  consumptionEventId,
  type Source,
  topicNames,
  topicSpecs,
} from '@taobi/contracts';
import {
  connectProducer,
  createKafka,
  createLogger,
  createRedis,
  ensureDatabase,
  ensureTopics,
  type Kafka,
  type Logger,
  loadConfig,
  publish,
  type Service,
} from '@taobi/platform';
import { DEFAULT_RULE_SET, foldScores } from '@taobi/rules';
import pg from 'pg';
import { buildScoringService } from '../../services/scoring/src/app';
import { type ScoringConfig, scoringConfigSchema } from '../../services/scoring/src/config';
import { processCpuSeconds } from './process-cpu';

export const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/taobi';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const logger: Logger = createLogger({ name: 'bench', level: process.env.LOG_LEVEL ?? 'warn' });

export function say(line: string): void {
  process.stdout.write(`[bench] ${line}\n`);
}

/** A deterministic pseudo-random backlog (so two runs fold the same events). */
export function backlog(count: number, members: number): ConsumptionEvent[] {
  let state = 12345;
  const random = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const now = Date.now();
  const events: ConsumptionEvent[] = [];
  const orders: ConsumptionEvent[] = [];
  for (let i = 0; i < count; i += 1) {
    const memberId = `bench-m-${Math.floor(random() ** 1.5 * members)}`;
    // A backlog is recent activity: the last 30 days.
    const occurredAt = new Date(now - Math.floor(random() * 30 * 86_400_000)).toISOString();
    const receivedAt = new Date(now).toISOString();
    const roll = random();
    if (roll < 0.05 && orders.length > 0) {
      const of = orders[Math.floor(random() * orders.length)] as ConsumptionEvent;
      const refundId = `bench-r-${i}`;
      events.push({
        eventId: consumptionEventId(of.source, 'refunded', refundId),
        schemaVersion: 1,
        kind: 'refunded',
        source: of.source,
        memberId: of.memberId,
        orderId: of.orderId,
        refundId,
        amount: Math.max(1, Math.floor(of.amount * random())),
        currency: 'CNY',
        occurredAt: of.occurredAt,
        receivedAt,
      });
      continue;
    }
    const [source, channel, category, median]: [Source, string, string, number] =
      roll < 0.5
        ? ['ecommerce', 'tmall', random() < 0.9 ? 'physical' : 'virtual', 8_000]
        : roll < 0.78
          ? ['food', 'eleme', 'meal', 3_500]
          : roll < 0.95
            ? ['mobility', 'ride-hailing', 'ride', 2_800]
            : ['travel', 'fliggy', random() < 0.5 ? 'flight' : 'hotel', 60_000];
    const orderId = `bench-o-${i}`;
    const event = {
      eventId: consumptionEventId(source, 'completed', orderId),
      schemaVersion: 1,
      kind: 'completed',
      source,
      channel,
      category,
      memberId,
      orderId,
      amount: Math.max(100, Math.round(median * Math.exp(random() * 2 - 1))),
      currency: 'CNY',
      occurredAt,
      receivedAt,
    } as ConsumptionEvent;
    events.push(event);
    orders.push(event);
  }
  return events;
}

/** Fills `topic` with `events`, `perSend` records per producer send (so per record batch). */
export async function fill(
  kafka: Kafka,
  topic: string,
  events: ConsumptionEvent[],
  perSend = 5_000,
): Promise<void> {
  const producer = await connectProducer(kafka);
  try {
    for (let i = 0; i < events.length; i += perSend) {
      await publish(
        producer,
        events.slice(i, i + perSend).map((value) => ({ topic, key: value.memberId, value })),
      );
    }
  } finally {
    await producer.disconnect();
  }
}

/** A connected kafkajs admin client. */
export type Admin = ReturnType<Kafka['admin']>;

/**
 * Whether the group's committed offsets reach the end of every partition of `topic`. `admin` is
 * connected once by the caller and reused: a connect per poll cost about 1.9 ms of CPU, in the
 * process whose CPU the bench reports as scoring's (polled every 10 ms, some 15% of it).
 */
export async function committedToEnd(admin: Admin, groupId: string, topic: string): Promise<boolean> {
  const ends = await admin.fetchTopicOffsets(topic);
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  return ends.every((end) => (at.get(end.partition) ?? -1n) >= BigInt(end.high));
}

/** Topics under a fresh prefix, a fresh database and a Redis key prefix, all removed by `remove()`. */
export interface Scratch {
  kafka: Kafka;
  prefix: string;
  databaseUrl: string;
  remove(): Promise<void>;
}

export async function createScratch(): Promise<Scratch> {
  const kafka = createKafka({ brokers: BROKERS, clientId: 'taobi-bench', logger });
  const prefix = `bench-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}.`;
  const databaseName = `taobi_bench_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const databaseUrl = new URL(DATABASE_URL);
  databaseUrl.pathname = `/${databaseName}`;
  await ensureTopics(kafka, topicSpecs(prefix));
  await ensureDatabase(DATABASE_URL, databaseName);
  return {
    kafka,
    prefix,
    databaseUrl: databaseUrl.toString(),
    async remove() {
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics: topicSpecs(prefix).map((t) => t.topic) }).catch(() => undefined);
      await admin.disconnect();
      const server = new URL(DATABASE_URL);
      server.pathname = '/postgres';
      const client = new pg.Client({ connectionString: server.toString() });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
      await client.end();
      const redis = createRedis({ url: REDIS_URL, keyPrefix: '', logger });
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.unlink(...keys);
      } while (cursor !== '0');
      redis.disconnect();
    },
  };
}

/** The number of events (orders and refunds) and members the scratch ledger holds. */
export async function ledgerSize(scratch: Scratch): Promise<{ events: number; members: number }> {
  const check = new pg.Client({ connectionString: scratch.databaseUrl });
  await check.connect();
  try {
    const { rows } = await check.query<{ events: number; members: number }>(
      `SELECT (SELECT count(*) FROM scoring.orders) + (SELECT count(*) FROM scoring.refunds) AS events,
              (SELECT count(*) FROM scoring.members) AS members`,
    );
    return { events: Number(rows[0]?.events), members: Number(rows[0]?.members) };
  } finally {
    await check.end();
  }
}

/**
 * How many members' scores differ from the pure reference fold of `events` (each member's window
 * as stored), and how many score versions the fold wrote (each has one score-changed record).
 */
export async function checkScores(
  scratch: Scratch,
  events: readonly ConsumptionEvent[],
): Promise<{ members: number; wrong: string[]; versions: number }> {
  const check = new pg.Client({ connectionString: scratch.databaseUrl });
  await check.connect();
  try {
    const { rows } = await check.query<{ member_id: string; score: number; window_from: string }>(
      'SELECT member_id, score, window_from FROM scoring.members',
    );
    const { rows: versions } = await check.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM scoring.score_versions',
    );
    const byWindow = new Map<string, Map<string, { score: number }>>();
    const wrong: string[] = [];
    for (const row of rows) {
      let reference = byWindow.get(row.window_from);
      if (!reference) {
        reference = foldScores(DEFAULT_RULE_SET.score, events, row.window_from);
        byWindow.set(row.window_from, reference);
      }
      const expected = reference.get(row.member_id)?.score;
      if (expected !== row.score) wrong.push(`${row.member_id}: ${row.score} for ${expected}`);
    }
    return { members: rows.length, wrong, versions: versions[0]?.n ?? 0 };
  } finally {
    await check.end();
  }
}

/** The two clocks of a live fold, in seconds from the group join. */
export interface FoldTimes {
  /** Every event in Postgres and its offset committed. */
  committed: number;
  /** Also every score-changed record the fold wrote on the score-changed topic (its outbox empty). */
  published: number;
  /**
   * CPU seconds (user and system) this process spent until then: the service's work (the polling of
   * the clocks is a few queries a second), which the machine's load does not inflate as it does
   * wall time.
   */
  cpu: number;
  /**
   * CPU seconds the Postgres backends serving the service spent meanwhile (read from /proc, so 0
   * when Postgres runs elsewhere): the other half of a fold's work, also robust to the machine's load.
   */
  postgresCpu: number;
}

/**
 * CPU of the local Postgres backends of an application (by `application_name`), sampled: each
 * backend's latest utime + stime (/proc/<pid>/stat), kept after it exits.
 */
function postgresBackendsCpu(check: pg.Client, applicationName: string) {
  const cpu = new Map<number, number>();
  return {
    async sample(): Promise<void> {
      const { rows } = await check.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1',
        [applicationName],
      );
      for (const { pid } of rows) {
        const seconds = await processCpuSeconds(pid);
        if (seconds !== undefined) cpu.set(pid, seconds);
      }
    },
    seconds: () => [...cpu.values()].reduce((sum, t) => sum + t, 0),
  };
}

/**
 * The live fold, timed: the real scoring service (in this process) drains the scratch topic; the
 * clocks run from its group join (start() resolves then) until its committed offsets reach the end
 * of every partition (every event in Postgres, its offset committed), and until, besides, its
 * outbox holds no unpublished row (every score-changed record acknowledged by the broker: the relay
 * marks a row only after the ack). `environment` overrides the service's variables (e.g. small
 * fetches). The service is handed back running (the caller stops it).
 */
export async function foldLive(
  scratch: Scratch,
  environment: Record<string, string> = {},
): Promise<{ seconds: number; times: FoldTimes; service: Service; config: ScoringConfig }> {
  const config = loadConfig(scoringConfigSchema, {
    ...process.env,
    KAFKA_BROKERS: BROKERS.join(','),
    KAFKA_TOPIC_PREFIX: scratch.prefix,
    KAFKA_GROUP_ID: `bench-scoring-${randomBytes(4).toString('hex')}`,
    DATABASE_URL: scratch.databaseUrl,
    REDIS_URL,
    REDIS_KEY_PREFIX: scratch.prefix,
    EVALUATION_SCHEDULE_ENABLED: 'off',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    // One 8 MB batch is folded without a heartbeat; on a machine loaded by other work it can take
    // longer than the default 30 s session, and the coordinator would drop the member mid-run.
    KAFKA_SESSION_TIMEOUT_MS: '120000',
    ...environment,
  });
  const service = buildScoringService(config, logger);
  const topic = topicNames(scratch.prefix).consumption;
  const check = new pg.Client({ connectionString: scratch.databaseUrl });
  await check.connect();
  const admin = scratch.kafka.admin();
  await admin.connect();
  // A consumer kafkajs gave up on (its retries spent on a loaded machine) would never finish.
  let fatal: Error | undefined;
  service.app.readiness.onFatal((name, error) => {
    fatal = new Error(`the scoring service's ${name} died: ${error.message}`);
  });
  try {
    await service.start();
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const since = () => (performance.now() - started) / 1000;
    const backends = postgresBackendsCpu(check, 'taobi-scoring');
    let sampled = 0;
    let committed: number | undefined;
    for (;;) {
      if (fatal) throw fatal;
      if (performance.now() - sampled > 500) {
        await backends.sample();
        sampled = performance.now();
      }
      if (committed === undefined && (await committedToEnd(admin, config.KAFKA_GROUP_ID, topic))) {
        committed = since();
      }
      if (committed !== undefined) {
        const { rowCount } = await check.query(
          'SELECT 1 FROM scoring.outbox WHERE published_at IS NULL LIMIT 1',
        );
        if (rowCount === 0) {
          const published = since();
          const cpu = process.cpuUsage(cpuBefore);
          await backends.sample();
          return {
            seconds: committed,
            times: {
              committed,
              published,
              cpu: (cpu.user + cpu.system) / 1e6,
              postgresCpu: backends.seconds(),
            },
            service,
            config,
          };
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    await admin.disconnect();
    await check.end();
  }
}

/**
 * Runs `bench` on a scratch whose consumption topic holds the backlog (`[events] [members]` from
 * the command line, 100,000 over up to 20,000 by default), and removes the scratch after.
 */
export async function withBacklog(
  bench: (scratch: Scratch, topic: string, events: ConsumptionEvent[]) => Promise<void>,
): Promise<void> {
  const count = Number(process.argv[2] ?? 100_000);
  const members = Number(process.argv[3] ?? 20_000);
  const scratch = await createScratch();
  const topic = topicNames(scratch.prefix).consumption;
  try {
    const events = backlog(count, members);
    say(`filling ${topic} with ${events.length} events over up to ${members} members`);
    await fill(scratch.kafka, topic, events);
    await bench(scratch, topic, events);
  } finally {
    await scratch.remove();
  }
}
