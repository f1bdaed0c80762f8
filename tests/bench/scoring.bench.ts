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
import type { ConsumptionEvent } from '@taobi/contracts';
import type { Kafka } from '@taobi/platform';
import { foldLive, ledgerSize, type Scratch, say, withBacklog } from './bench-kit';
import { instancesFlag, scaleOut } from './scoring-instances';

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

async function bench(scratch: Scratch, topic: string, events: ConsumptionEvent[]): Promise<void> {
  const baselineSeconds = await baseline(scratch.kafka, topic, events.length);
  const baselineRate = events.length / baselineSeconds;
  say(
    `do-nothing kafkajs eachBatch consumer: ${baselineSeconds.toFixed(2)} s, ${Math.round(baselineRate)} events/s`,
  );

  const live = await foldLive(scratch);
  await live.service.stop();
  const scoringRate = events.length / live.seconds;
  say(
    `scoring (Postgres transaction per batch, offsets committed after): ${live.seconds.toFixed(2)} s, ${Math.round(scoringRate)} events/s`,
  );

  const ledger = await ledgerSize(scratch);
  say(`ledger holds ${ledger.events} events for ${ledger.members} members`);
  const ratio = scoringRate / baselineRate;
  say(`ratio scoring / baseline: ${ratio.toFixed(2)} (aim: at least 0.4)`);
  process.stdout.write(
    `${JSON.stringify({ events: events.length, baselineEventsPerSecond: Math.round(baselineRate), scoringEventsPerSecond: Math.round(scoringRate), ratio: Number(ratio.toFixed(3)) })}\n`,
  );
  if (instances > 1) await scaleOut(scratch, events.length, instances);
}

withBacklog(bench).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
