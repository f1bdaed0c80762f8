/**
 * `pnpm bench:scoring [events] [members]`: how fast scoring folds a backlog with durable commits,
 * against a do-nothing kafkajs eachBatch consumer draining the same backlog in the same run.
 *
 * 1. A fresh topic set (own prefix) is filled with `events` canonical consumption records over
 *    `members` members (skewed: e-commerce, meals, rides, some trips, ~5% refunds).
 * 2. Baseline: a kafkajs consumer (new group, eachBatch that only counts) drains it.
 * 3. Scoring: the real service (in this process, its own database and Redis prefix) drains it, with
 *    two clocks: until every score-changed record the fold wrote is on its topic (the headline:
 *    the fold's output is out), and until the group's committed offsets reach the end of every
 *    partition (every event in Postgres, one transaction per batch, its offset committed).
 * 4. Ceilings (scoring-ceilings.ts): the door (parse, validate, check every record) and the ledger
 *    rows alone (the orders loaded as the fold loads them, nothing else), each timed in this run,
 *    as ratios of the same baseline: what the fold's parts allow, on this machine, today.
 * 5. Small batches (skipped with BENCH_SMALL_EVENTS=0): a second backlog (BENCH_SMALL_EVENTS,
 *    default 20,000) written 100 records per send and read with fetches of about 100 records per
 *    partition, as a backlog fed at a steady rate is: per-batch fixed costs dominate.
 * With BENCH_STATEMENTS=1, each fold also prints its statements (count per fold batch, summed time,
 * by text: statement-timer.ts).
 * Every clock starts once the consumer has joined its group (kafkajs run() resolved).
 * Everything the run created (topics, database, Redis keys) is removed at the end.
 */
import { randomBytes } from 'node:crypto';
import { type ConsumptionEvent, topicNames } from '@taobi/contracts';
import type { Kafka, Service } from '@taobi/platform';
import {
  backlog,
  checkScores,
  createScratch,
  fill,
  foldLive,
  ledgerSize,
  type Scratch,
  say,
  withBacklog,
} from './bench-kit';
import { doorRate, ledgerRowsRate } from './scoring-ceilings';
import { instancesFlag, scaleOut } from './scoring-instances';
import { startStatementTimer, statementReport } from './statement-timer';

const SMALL_EVENTS = Number(process.env.BENCH_SMALL_EVENTS ?? 20_000);
const SMALL_BATCH = 100;

/** `BENCH_STATEMENTS=1`: also count and time the statements of each fold (statement-timer.ts). */
const timeStatements = process.env.BENCH_STATEMENTS === '1';

/** `--instances N`: also fold the backlog with 1 and with N scoring processes (scoring-instances.ts). */
const instances = instancesFlag();

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

/** Batches the service folded and score-changed records it published, from its own metrics. */
async function foldCounts(service: Service): Promise<{ batches: number; published: number }> {
  const text = (await service.app.inject({ method: 'GET', url: '/metrics' })).body;
  const sum = (pattern: RegExp) =>
    text
      .split('\n')
      .filter((line) => pattern.test(line))
      .reduce((total, line) => total + Number(line.split(' ').pop()), 0);
  return {
    batches: sum(/^taobi_scoring_batch_duration_seconds_count/),
    published: sum(/^taobi_outbox_published_total/),
  };
}

/**
 * Whether the fold was exact: every score equals the pure reference fold of the backlog, and one
 * score-changed record was published per score version. Throws if not: a fast wrong fold is no figure.
 */
async function sayExact(scratch: Scratch, events: ConsumptionEvent[], published: number): Promise<void> {
  const { members, wrong, versions } = await checkScores(scratch, events);
  if (wrong.length > 0 || versions !== published) {
    throw new Error(
      `the fold is not exact: ${wrong.length} of ${members} scores differ from the reference fold (${wrong.slice(0, 5).join(', ')}); ${versions} score versions, ${published} records published`,
    );
  }
  say(
    `every score of ${members} members equals the reference fold; ${versions} versions, as many records published`,
  );
}

/** The small-batch fold: its own scratch, filled and fetched ~100 records at a time. */
async function smallBatches(baselineRate: number): Promise<Record<string, number>> {
  const scratch = await createScratch();
  try {
    const events = backlog(SMALL_EVENTS, Math.min(20_000, SMALL_EVENTS));
    const topic = topicNames(scratch.prefix).consumption;
    await fill(scratch.kafka, topic, events, SMALL_BATCH);
    const recordBytes =
      events.reduce((sum, e) => sum + Buffer.byteLength(JSON.stringify(e)) + e.memberId.length, 0) /
      events.length;
    const timer = timeStatements ? startStatementTimer() : undefined;
    const live = await foldLive(scratch, {
      CONSUMER_MAX_BYTES_PER_PARTITION: String(Math.round(recordBytes * SMALL_BATCH)),
    });
    const counts = await foldCounts(live.service);
    if (timer) for (const line of statementReport(timer.stop(), counts.batches)) say(line);
    await live.service.stop();
    await sayExact(scratch, events, counts.published);
    const rate = events.length / live.times.published;
    const perBatch = events.length / Math.max(counts.batches, 1);
    say(
      `small batches (${SMALL_EVENTS} events, ${perBatch.toFixed(0)} per fold batch on average): ${Math.round(rate)} events/s to the topic (${(rate / baselineRate).toFixed(3)} of the baseline), ${Math.round(events.length / live.times.committed)} events/s to the offset commit`,
    );
    return {
      smallEvents: events.length,
      smallRecordsPerBatch: Math.round(perBatch),
      smallEventsPerSecond: Math.round(rate),
      smallRatio: Number((rate / baselineRate).toFixed(3)),
    };
  } finally {
    await scratch.remove();
  }
}

async function bench(scratch: Scratch, topic: string, events: ConsumptionEvent[]): Promise<void> {
  const baselineSeconds = await baseline(scratch.kafka, topic, events.length);
  const baselineRate = events.length / baselineSeconds;
  say(
    `do-nothing kafkajs eachBatch consumer: ${baselineSeconds.toFixed(2)} s, ${Math.round(baselineRate)} events/s`,
  );

  const timer = timeStatements ? startStatementTimer() : undefined;
  const live = await foldLive(scratch);
  const counts = await foldCounts(live.service);
  if (timer) for (const line of statementReport(timer.stop(), counts.batches)) say(line);
  await live.service.stop();
  const publishedRate = events.length / live.times.published;
  const committedRate = events.length / live.times.committed;
  say(
    `scoring, until every score-changed record is on its topic: ${live.times.published.toFixed(2)} s, ${Math.round(publishedRate)} events/s (${counts.published} records, ${counts.batches} fold batches)`,
  );
  say(
    `scoring, until every offset is committed (events in Postgres): ${live.times.committed.toFixed(2)} s, ${Math.round(committedRate)} events/s`,
  );
  say(
    `scoring's process CPU until its records were on the topic: ${live.times.cpu.toFixed(2)} s, ${Math.round((live.times.cpu * 1e6) / events.length)} µs per event`,
  );

  const ledger = await ledgerSize(scratch);
  say(`ledger holds ${ledger.events} events for ${ledger.members} members`);
  await sayExact(scratch, events, counts.published);
  const ratio = publishedRate / baselineRate;
  say(
    `ratio scoring / baseline: ${ratio.toFixed(3)} to the topic (goal: at least 0.15), ${(committedRate / baselineRate).toFixed(3)} to the offset commit`,
  );
  const door = doorRate(events);
  const rows = await ledgerRowsRate(scratch, events);
  say(
    `ceilings: the door alone (parse, validate, check) ${Math.round(door)} events/s (${(door / baselineRate).toFixed(3)} of the baseline); the ledger rows alone (orders COPYed and inserted, nothing else) ${Math.round(rows)} events/s (${(rows / baselineRate).toFixed(3)})`,
  );
  const small = SMALL_EVENTS > 0 ? await smallBatches(baselineRate) : {};
  process.stdout.write(
    `${JSON.stringify({
      events: events.length,
      baselineEventsPerSecond: Math.round(baselineRate),
      scoringEventsPerSecond: Math.round(publishedRate),
      ratio: Number(ratio.toFixed(3)),
      committedEventsPerSecond: Math.round(committedRate),
      committedRatio: Number((committedRate / baselineRate).toFixed(3)),
      cpuMicrosPerEvent: Math.round((live.times.cpu * 1e6) / events.length),
      recordsPublished: counts.published,
      foldBatches: counts.batches,
      doorCeilingRatio: Number((door / baselineRate).toFixed(3)),
      ledgerRowsCeilingRatio: Number((rows / baselineRate).toFixed(3)),
      ...small,
    })}\n`,
  );
  if (instances > 1) await scaleOut(scratch, events.length, instances);
}

withBacklog(bench).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
