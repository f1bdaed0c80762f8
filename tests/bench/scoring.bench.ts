/**
 * `pnpm bench:scoring [events] [members]`: how fast scoring folds a backlog with durable commits,
 * against a do-nothing kafkajs eachBatch consumer draining the same backlog in the same run.
 *
 * 1. A fresh topic set (own prefix) is filled with `events` canonical consumption records over
 *    `members` members (skewed: e-commerce, meals, rides, some trips, ~5% refunds).
 * 2. Baseline: a kafkajs consumer (new group, eachBatch that only counts) drains it.
 * 3. Scoring: the real service (in this process, its own database and Redis prefix) drains it;
 *    the clock stops when the group's committed offsets reach the end of every partition, i.e.
 *    every event is in Postgres (one transaction per batch) and its offset committed.
 * Both clocks start once the consumer has joined its group (kafkajs run() resolved).
 * Everything the run created (topics, database, Redis keys) is removed at the end.
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
  loadConfig,
  publish,
} from '@taobi/platform';
import pg from 'pg';
import { buildScoringService } from '../../services/scoring/src/app';
import { scoringConfigSchema } from '../../services/scoring/src/config';

const EVENTS = Number(process.argv[2] ?? 100_000);
const MEMBERS = Number(process.argv[3] ?? 20_000);
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/taobi';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = createLogger({ name: 'bench', level: process.env.LOG_LEVEL ?? 'warn' });

function say(line: string): void {
  process.stdout.write(`[bench] ${line}\n`);
}

/** A deterministic pseudo-random backlog (so two runs fold the same events). */
function backlog(count: number, members: number): ConsumptionEvent[] {
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

async function fill(kafka: Kafka, topic: string, events: ConsumptionEvent[]): Promise<void> {
  const producer = await connectProducer(kafka);
  try {
    for (let i = 0; i < events.length; i += 5_000) {
      await publish(
        producer,
        events.slice(i, i + 5_000).map((value) => ({ topic, key: value.memberId, value })),
      );
    }
  } finally {
    await producer.disconnect();
  }
}

async function baseline(kafka: Kafka, topic: string, total: number): Promise<number> {
  const consumer = kafka.consumer({
    groupId: `bench-baseline-${randomBytes(4).toString('hex')}`,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  let started = 0;
  let finished = 0;
  await new Promise<void>((resolve) => {
    void consumer
      .run({
        eachBatch: async ({ batch }) => {
          seen += batch.messages.length;
          if (seen >= total && !finished) {
            finished = performance.now();
            resolve();
          }
        },
      })
      .then(() => {
        // run() resolves once the group is joined: the clock starts here, as for scoring.
        started = performance.now();
      });
  });
  await consumer.disconnect();
  return (finished - started) / 1000;
}

async function committedToEnd(kafka: Kafka, groupId: string, topic: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    return ends.every((end) => (at.get(end.partition) ?? -1n) >= BigInt(end.high));
  } finally {
    await admin.disconnect();
  }
}

async function scoring(
  prefix: string,
  databaseUrl: string,
  redisPrefix: string,
  kafka: Kafka,
): Promise<number> {
  const config = loadConfig(scoringConfigSchema, {
    ...process.env,
    KAFKA_BROKERS: BROKERS.join(','),
    KAFKA_TOPIC_PREFIX: prefix,
    KAFKA_GROUP_ID: `bench-scoring-${randomBytes(4).toString('hex')}`,
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix,
    EVALUATION_SCHEDULE: 'off',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  const service = buildScoringService(config, logger);
  const topic = topicNames(prefix).consumption;
  // Migrations, connections and the group join are not timed: start() resolves once joined.
  await service.start();
  const started = performance.now();
  try {
    while (!(await committedToEnd(kafka, config.KAFKA_GROUP_ID, topic))) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return (performance.now() - started) / 1000;
  } finally {
    await service.stop();
  }
}

async function main(): Promise<void> {
  const kafka = createKafka({ brokers: BROKERS, clientId: 'taobi-bench', logger });
  const prefix = `bench-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}.`;
  const databaseName = `taobi_bench_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const databaseUrl = new URL(DATABASE_URL);
  databaseUrl.pathname = `/${databaseName}`;
  const redisPrefix = `${prefix}`;
  await ensureTopics(kafka, topicSpecs(prefix));
  await ensureDatabase(DATABASE_URL, databaseName);
  try {
    const events = backlog(EVENTS, MEMBERS);
    say(
      `filling ${topicNames(prefix).consumption} with ${events.length} events over up to ${MEMBERS} members`,
    );
    await fill(kafka, topicNames(prefix).consumption, events);

    const baselineSeconds = await baseline(kafka, topicNames(prefix).consumption, events.length);
    const baselineRate = events.length / baselineSeconds;
    say(
      `do-nothing kafkajs eachBatch consumer: ${baselineSeconds.toFixed(2)} s, ${Math.round(baselineRate)} events/s`,
    );

    const scoringSeconds = await scoring(prefix, databaseUrl.toString(), redisPrefix, kafka);
    const scoringRate = events.length / scoringSeconds;
    say(
      `scoring (Postgres transaction per batch, offsets committed after): ${scoringSeconds.toFixed(2)} s, ${Math.round(scoringRate)} events/s`,
    );

    const check = new pg.Client({ connectionString: databaseUrl.toString() });
    await check.connect();
    const { rows } = await check.query<{ n: number }>(
      'SELECT (SELECT count(*) FROM scoring.orders) + (SELECT count(*) FROM scoring.refunds) AS n',
    );
    const members = await check.query<{ n: number }>('SELECT count(*) AS n FROM scoring.members');
    await check.end();
    say(`ledger holds ${rows[0]?.n} events for ${members.rows[0]?.n} members`);
    const ratio = scoringRate / baselineRate;
    say(`ratio scoring / baseline: ${ratio.toFixed(2)} (aim: at least 0.4)`);
    process.stdout.write(
      `${JSON.stringify({ events: events.length, baselineEventsPerSecond: Math.round(baselineRate), scoringEventsPerSecond: Math.round(scoringRate), ratio: Number(ratio.toFixed(3)) })}\n`,
    );
  } finally {
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
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
    redis.disconnect();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
