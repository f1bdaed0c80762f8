/**
 * `pnpm bench:live`: live traffic through ingest-ecommerce, scoring and tier, each its own process
 * (tests/support TestStack: a topic prefix, database and Redis prefix of its own, removed after).
 *
 * 1. Raw three hops, the baseline: a kafkajs producer sends to topic A; a consumer forwards each
 *    record to B, another from B to C (each through the services' idempotent acks=all producer);
 *    a consumer of C sees it. Latency from A's ack to C's consumer, probes four at a time.
 * 2. Quiet stack: probes one at a time (a lone event on an idle stack: what one member sees),
 *    each a fresh member's order large enough for Silver, from the 202 of
 *    ingest to the tier-changed record at a consumer of the topic (as the demo measures), and where
 *    the time went: the probe's outbox rows (when scoring's and tier's transactions began) and the
 *    Kafka timestamps of its score-changed and tier-changed records (when each relay sent them; the
 *    score-changed ones read back after the probes, so no second consumer of that topic runs beside
 *    tier while they are measured)
 *    split it into scoringIn (202 → scoring's transaction began: the hop and the fetch), scoringOut
 *    (→ score-changed sent: fold, commit, relay), tierIn (→ tier's transaction began), tierOut
 *    (→ tier-changed sent) and delivery (→ at the consumer); the slowest probes are listed with
 *    their segments. Then the same, raw and stack, with four probes in flight (light traffic).
 * 3. Rising rates: single-event POSTs at a steady offered rate (open loop, every 10 ms); a step is
 *    sustained when no answer is a 503 (or any non-202), the rate achieved (202s over the time until
 *    the last answer) is at least 95% of the one offered, and at its end scoring's and tier's groups
 *    lag by at most one second of traffic. Coarse then fine: the ladder BENCH_LIVE_RATES in steps of
 *    BENCH_LIVE_COARSE_SECONDS up to the first step not sustained, then BENCH_LIVE_FINE_STEPS steps
 *    of BENCH_LIVE_SECONDS: the highest coarse rate again, then halving the bracket between the
 *    highest rate sustained and the lowest not. The figure is the highest rate a full-length step
 *    sustained.
 * 4. At half that rate, for BENCH_LIVE_SECONDS: the same probes (four in flight) under that load,
 *    and the raw three hops again under it. BENCH_LIVE_AT=<rate> skips the ramp and probes under that rate instead
 *    (to compare the latency of two builds, alternated).
 * Options (env): BENCH_LIVE_AT, BENCH_LIVE_SECONDS (60), BENCH_LIVE_COARSE_SECONDS (15), BENCH_LIVE_FINE_STEPS
 * (3), BENCH_LIVE_RATES (comma-separated, default 100,200,400,800,1600,3200), BENCH_LIVE_PROBES
 * (100), BENCH_LIVE_QUIET_ONLY=1 (only the raw hops and the quiet stack of 2., one probe at a time:
 * well under a minute, to compare two builds' quiet tail). About 8 minutes by default; shorter steps for a quick check:
 * `BENCH_LIVE_SECONDS=10 BENCH_LIVE_COARSE_SECONDS=5 BENCH_LIVE_RATES=200,400 BENCH_LIVE_PROBES=20 pnpm bench:live`.
 * Not a test: nothing asserts a speed.
 */
import { Agent } from 'node:http';
import { consumerGroupId, type TierChanged } from '@taobi/contracts';
import {
  connectProducer,
  consumerGroupLag,
  createKafka,
  createLogger,
  createPool,
  ensureTopics,
  type Kafka,
  type Pool,
  publish,
  readTopicSince,
} from '@taobi/platform';
import { TestStack, uniqueId } from '../support';
import { post } from './post-event';

// The test kit (TestStack) reads the endpoints from the environment when it starts a stack.
process.env.KAFKA_BROKERS ??= '127.0.0.1:9092';
process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/taobi';
process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';

const SECONDS = Number(process.env.BENCH_LIVE_SECONDS ?? 60);
const COARSE_SECONDS = Number(process.env.BENCH_LIVE_COARSE_SECONDS ?? Math.min(15, SECONDS));
const FINE_STEPS = Number(process.env.BENCH_LIVE_FINE_STEPS ?? 3);
const AT = process.env.BENCH_LIVE_AT ? Number(process.env.BENCH_LIVE_AT) : undefined;
const RATES = (process.env.BENCH_LIVE_RATES ?? '100,200,400,800,1600,3200').split(',').map(Number);
const PROBES = Number(process.env.BENCH_LIVE_PROBES ?? 100);
const QUIET_ONLY = process.env.BENCH_LIVE_QUIET_ONLY === '1';
const MAX_IN_FLIGHT = 512;

const logger = createLogger({ name: 'bench', level: 'warn' });
const kafka = createKafka({ brokers: process.env.KAFKA_BROKERS.split(','), clientId: 'taobi-bench', logger });
const say = (line: string) => process.stdout.write(`[bench] ${line}\n`);

function quantiles(samples: number[]): { p50: number; p99: number; n: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), n: sorted.length };
}

const show = (q: { p50: number; p99: number; n: number }) =>
  `p50 ${q.p50.toFixed(1)} ms, p99 ${q.p99.toFixed(1)} ms (${q.n} probes)`;

async function mapLimit<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next;
        next += 1;
        results[index] = await work(items[index] as T);
      }
    }),
  );
  return results;
}

/** Waiters for a key to be seen on a topic, resolved by a consumer's eachMessage. */
class Sightings {
  private readonly waiting = new Map<string, (at: number) => void>();
  private readonly seen = new Map<string, number>();

  see(key: string): void {
    if (this.seen.has(key)) return;
    const at = performance.now();
    this.seen.set(key, at);
    this.waiting.get(key)?.(at);
  }

  when(key: string, timeoutMs = 30_000): Promise<number> {
    const at = this.seen.get(key);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${key} not seen in ${timeoutMs} ms`)), timeoutMs);
      this.waiting.set(key, (seenAt) => {
        clearTimeout(timer);
        resolve(seenAt);
      });
    });
  }
}

async function consume(
  client: Kafka,
  groupId: string,
  topic: string,
  onMessage: (key: string, value: Buffer | null, timestamp: number) => Promise<void> | void,
) {
  const consumer = client.consumer({ groupId, maxWaitTimeInMs: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: false });
  await consumer.run({
    eachMessage: async ({ message }) =>
      onMessage(message.key?.toString() ?? '', message.value, Number(message.timestamp)),
  });
  return consumer;
}

/** The raw three hops A → B → C, with their forwarders and the consumer at C. */
async function rawHops(prefix: string) {
  const [a, b, c] = ['a', 'b', 'c'].map((hop) => `${prefix}raw-${hop}`) as [string, string, string];
  await ensureTopics(
    kafka,
    [a, b, c].map((topic) => ({ topic, numPartitions: 6 })),
  );
  const producer = await connectProducer(kafka);
  const sightings = new Sightings();
  const forward = (to: string) => async (key: string, value: Buffer | null) => {
    await publish(producer, [{ topic: to, key, value: JSON.parse(String(value)) }]);
  };
  const consumers = [
    await consume(kafka, `${prefix}raw-ab`, a, forward(b)),
    await consume(kafka, `${prefix}raw-bc`, b, forward(c)),
    await consume(kafka, `${prefix}raw-c`, c, (key) => sightings.see(key)),
  ];
  let sequence = 0;
  return {
    async probe(): Promise<number> {
      sequence += 1;
      const key = `raw-${sequence}`;
      const seen = sightings.when(key);
      await publish(producer, [{ topic: a, key, value: { probe: key } }]);
      const acked = performance.now();
      return (await seen) - acked;
    },
    async close() {
      for (const consumer of consumers) await consumer.disconnect();
      await producer.disconnect();
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [a, b, c] }).catch(() => undefined);
      await admin.disconnect();
    },
  };
}

let orders = 0;
function order(memberId: string, amount: number) {
  orders += 1;
  return {
    type: 'order.completed',
    orderId: `live-${process.pid}-${orders}`,
    memberId,
    amount,
    currency: 'CNY',
    channel: 'tmall',
    category: 'physical',
    occurredAt: new Date(Date.now() - 1000).toISOString(),
  };
}

/**
 * Where a probe's time went, from the Kafka timestamps (CreateTime: when each relay sent) and the
 * probe's outbox rows (`created_at`: when the transaction that wrote them began, just after the
 * consumer fetched the record).
 */
interface Segments {
  /** 202 → scoring's fold transaction began: ingest's send, the hop, scoring's fetch. */
  scoringIn: number;
  /** → its score-changed record sent by scoring's relay: the fold, its commit, the relay's read. */
  scoringOut: number;
  /** → tier's transaction began: the hop, tier's fetch. */
  tierIn: number;
  /** → the tier-changed record sent by tier's relay: the fold, its commit, the relay's read. */
  tierOut: number;
  /** → at the bench's consumer: the last hop. */
  delivery: number;
}

const SEGMENTS = ['scoringIn', 'scoringOut', 'tierIn', 'tierOut', 'delivery'] as const;

const showSegments = (segments: Segments[]) =>
  SEGMENTS.map((name) => {
    const q = quantiles(segments.map((s) => s[name]));
    return `${name} p50 ${q.p50.toFixed(0)} / p99 ${q.p99.toFixed(0)} ms`;
  }).join(', ');

const total = (s: Segments) => SEGMENTS.reduce((sum, name) => sum + s[name], 0);

/** The three slowest probes, each with its segments: which hop or stage a tail came from. */
const showSlowest = (segments: Segments[]) =>
  [...segments]
    .sort((a, b) => total(b) - total(a))
    .slice(0, 3)
    .map((s) => `${total(s).toFixed(0)} ms (${SEGMENTS.map((name) => s[name].toFixed(0)).join(' / ')})`)
    .join(', ');

/** When each probe's first outbox row (by member) of `schema` was written (its transaction's start). */
async function outboxWritten(pool: Pool, schema: 'scoring' | 'tier', prefix: string) {
  const { rows } = await pool.query<{ member_id: string; created: Date }>(
    `SELECT message_key AS member_id, min(created_at) AS created FROM ${schema}.outbox
     WHERE message_key LIKE $1 GROUP BY message_key`,
    [`${prefix}%`],
  );
  return new Map(rows.map((row) => [row.member_id, row.created.getTime()]));
}

/** Epoch milliseconds of a `performance.now()` instant, to compare with Kafka timestamps. */
const epochMs = (at: number) => performance.timeOrigin + at;

async function main(): Promise<void> {
  say(
    `starting ingest-ecommerce, scoring and tier (ladder ${RATES.join(', ')} at ${COARSE_SECONDS} s per step, ` +
      `then ${FINE_STEPS} steps of ${SECONDS} s)`,
  );
  const stack = await TestStack.start({
    services: ['ingest-ecommerce', 'scoring', 'tier'],
    env: { INGEST_RATE_LIMIT_PER_SECOND: '0', EVALUATION_SCHEDULE_ENABLED: 'off' },
  });
  const port = Number(new URL(stack.url('ingest-ecommerce')).port);
  const agent = new Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });
  const runId = uniqueId('live');
  const probePrefix = `${runId}-probe`;
  const tierChanges = new Sightings();
  const sentAt = { scoreChanged: new Map<string, number>(), tierChanged: new Map<string, number>() };
  // Only the tier-changed topic is watched while probes run: its consumer is the downstream one
  // the latency is measured at. The score-changed records' send times are read back after the
  // probes (`scoreChangedSent`): a live watcher there was a second consumer of score-changed,
  // fetching, waking and parsing beside tier at the moment tier's hop was measured.
  const watcher = await consume(
    kafka,
    `${runId}-watch-tierChanged`,
    stack.topics.tierChanged,
    (key, value, timestamp) => {
      // Keyed by memberId; only the probes' records are kept.
      if (!key.startsWith(probePrefix)) return;
      if (!sentAt.tierChanged.has(key)) sentAt.tierChanged.set(key, timestamp);
      tierChanges.see((JSON.parse(String(value)) as TierChanged).memberId);
    },
  );
  const raw = await rawHops(`${stack.topicPrefix}`);
  const groups = (['scoring', 'tier'] as const).map((service) => ({
    groupId: consumerGroupId(service, stack.topicPrefix),
    topic: service === 'scoring' ? stack.topics.consumption : stack.topics.scoreChanged,
  }));
  let probeCount = 0;
  const pool = createPool({ connectionString: stack.databaseUrl, logger, applicationName: 'taobi-bench' });
  /** One upgrade: a fresh member's 4,000 CNY order, from its 202 to its tier-changed record. */
  /** Each probe: its 202, and the Kafka timestamps of its records (the outbox rows are read after). */
  let marks: { memberId: string; accepted: number; seen: number }[] = [];
  const probe = async (): Promise<number> => {
    probeCount += 1;
    const memberId = `${probePrefix}${probeCount}`;
    const seen = tierChanges.when(memberId);
    const { status } = await post(agent, port, order(memberId, 400_000));
    const accepted = performance.now();
    if (status !== 202) throw new Error(`a probe was answered ${status}`);
    const seenAt = await seen;
    marks.push({ memberId, accepted: epochMs(accepted), seen: epochMs(seenAt) });
    return seenAt - accepted;
  };
  /** When scoring's relay sent each probe's first score-changed record (its Kafka timestamp). */
  const scoreChangedSent = async (since: number) => {
    for (const record of await readTopicSince(kafka, stack.topics.scoreChanged, new Date(since))) {
      const key = record.key ?? '';
      if (key.startsWith(probePrefix) && !sentAt.scoreChanged.has(key)) {
        sentAt.scoreChanged.set(key, record.timestamp);
      }
    }
  };
  /** The probes' latencies, and where their time went. */
  const probeStack = async (count: number, inFlight = 4) => {
    marks = [];
    const since = Date.now() - 1000;
    const latencies = quantiles(await probes(count, probe, inFlight));
    const [scoringBegan, tierBegan] = await Promise.all([
      outboxWritten(pool, 'scoring', probePrefix),
      outboxWritten(pool, 'tier', probePrefix),
      scoreChangedSent(since),
    ]);
    const segments: Segments[] = [];
    for (const { memberId, accepted, seen } of marks) {
      const scoring = scoringBegan.get(memberId);
      const scored = sentAt.scoreChanged.get(memberId);
      const tier = tierBegan.get(memberId);
      const tiered = sentAt.tierChanged.get(memberId);
      if (scoring === undefined || scored === undefined || tier === undefined || tiered === undefined)
        continue;
      segments.push({
        scoringIn: scoring - accepted,
        scoringOut: scored - scoring,
        tierIn: tier - scored,
        tierOut: tiered - tier,
        delivery: seen - tiered,
      });
    }
    return { latencies, where: showSegments(segments), slowest: showSlowest(segments) };
  };
  const probes = (count: number, work: () => Promise<number>, inFlight = 4) =>
    mapLimit(
      Array.from({ length: count }, (_, i) => i),
      inFlight,
      work,
    );

  try {
    // Warm-up: every consumer has joined and every producer is connected.
    await probes(4, probe);
    await probes(4, () => raw.probe());
    const rawQuiet = quantiles(await probes(PROBES, () => raw.probe(), 1));
    say(`raw three hops, quiet (one probe at a time): ${show(rawQuiet)}`);
    const quietStack = await probeStack(PROBES, 1);
    const quiet = quietStack.latencies;
    say(`ingest 202 -> tier-changed, quiet stack (one probe at a time): ${show(quiet)}`);
    say(`  where the time went (outbox rows written, Kafka send timestamps): ${quietStack.where}`);
    say(`  slowest (scoringIn / scoringOut / tierIn / tierOut / delivery): ${quietStack.slowest}`);
    if (QUIET_ONLY) {
      say(
        `quiet p99 / raw three-hop p99: ${(quiet.p99 / rawQuiet.p99).toFixed(1)}; quiet p99 ${quiet.p99.toFixed(1)} ms (goal: at most 50)`,
      );
      process.stdout.write(
        `${JSON.stringify({ quiet: { p50: quiet.p50, p99: quiet.p99, rawP50: rawQuiet.p50, rawP99: rawQuiet.p99 } })}\n`,
      );
      return;
    }
    const rawLight = quantiles(await probes(PROBES, () => raw.probe()));
    say(`raw three hops, four probes in flight: ${show(rawLight)}`);
    const lightStack = await probeStack(PROBES);
    const light = lightStack.latencies;
    say(`ingest 202 -> tier-changed, four probes in flight: ${show(light)}`);
    say(`  where the time went: ${lightStack.where}`);
    say(`  slowest: ${lightStack.slowest}`);

    /** Offers `rate` single-event POSTs a second for `seconds`; says whether it was sustained. */
    const offer = async (rate: number, seconds: number, during?: () => Promise<unknown>) => {
      const statuses = new Map<number, number>();
      let sent = 0;
      let inFlight = 0;
      let overflow = 0;
      const started = performance.now();
      const pending = new Set<Promise<void>>();
      const tick = setInterval(() => {
        const due = Math.floor(((performance.now() - started) / 1000) * rate) - sent;
        for (let i = 0; i < due; i += 1) {
          sent += 1;
          if (inFlight >= MAX_IN_FLIGHT) {
            overflow += 1;
            continue;
          }
          inFlight += 1;
          const member = `${runId}-m${sent % 20_000}`;
          const done = post(agent, port, order(member, 1000 + (sent % 30_000)))
            .then((answer) => answer.status)
            .catch(() => 0)
            .then((status) => {
              statuses.set(status, (statuses.get(status) ?? 0) + 1);
              inFlight -= 1;
              pending.delete(done);
            });
          pending.add(done);
        }
      }, 10);
      const extra = during?.();
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      clearInterval(tick);
      await Promise.all(pending);
      const elapsed = (performance.now() - started) / 1000;
      const accepted = statuses.get(202) ?? 0;
      const lag = await consumerGroupLag(kafka, groups);
      const failed = [...statuses].filter(([status]) => status !== 202);
      const sustained =
        failed.length === 0 && overflow === 0 && accepted / elapsed >= 0.95 * rate && lag <= rate;
      say(
        `offered ${rate}/s for ${seconds} s: ${(accepted / elapsed).toFixed(0)}/s accepted, ` +
          `${failed.map(([s, n]) => `${n} x ${s}`).join(', ') || 'no other answer'}, ${overflow} not sent (${MAX_IN_FLIGHT} in flight), ` +
          `lag at the end ${lag} -> ${sustained ? 'sustained' : 'NOT sustained'}`,
      );
      return { sustained, result: await extra };
    };
    /** A step of the ramp, then the stack drains before the next. */
    const step = async (rate: number, seconds: number) => {
      const { sustained } = await offer(rate, seconds);
      const drainUntil = Date.now() + 120_000;
      while ((await consumerGroupLag(kafka, groups)) > 0 && Date.now() < drainUntil) {
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      return sustained;
    };

    // Coarse: the ladder in short steps, up to the first not sustained.
    const ramp = AT === undefined;
    let low = 0;
    let high = Number.POSITIVE_INFINITY;
    for (const rate of ramp ? RATES : []) {
      if (!(await step(rate, COARSE_SECONDS))) {
        high = rate;
        break;
      }
      low = rate;
    }
    // Fine: full-length steps. The coarse bracket's lower end first (a short step can pass where a
    // long one fails), then halving the bracket; a step's rate is rounded to 10 events/s.
    let best = 0;
    let rate = low > 0 ? low : Math.round(high / 2);
    for (let i = 0; ramp && i < FINE_STEPS && rate > best && rate < high; i += 1) {
      if (await step(rate, SECONDS)) best = rate;
      else high = rate;
      if (high === Number.POSITIVE_INFINITY) break; // sustained the top of the ladder
      rate = Math.max(1, Math.round((best + high) / 2 / 10) * 10);
    }
    const ceiling = high === Number.POSITIVE_INFINITY ? ' (the top of the ladder: at least)' : '';
    if (ramp) say(`highest rate sustained for ${SECONDS} s: ${best} events/s${ceiling}`);

    const half = AT ?? Math.max(1, Math.floor(best / 2));
    const { result } = await offer(half, Math.max(SECONDS, 10), async () => {
      // Let the load settle, then probe through it: the raw hops, then the stack.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const rawLoaded = quantiles(await probes(PROBES, () => raw.probe()));
      const loaded = await probeStack(PROBES);
      return { rawLoaded, loaded };
    });
    const {
      rawLoaded,
      loaded: { latencies: loaded, where: loadedWhere, slowest: loadedSlowest },
    } = result as {
      rawLoaded: ReturnType<typeof quantiles>;
      loaded: Awaited<ReturnType<typeof probeStack>>;
    };
    say(`raw three hops at ${half}/s: ${show(rawLoaded)}`);
    say(`ingest 202 -> tier-changed at ${half}/s: ${show(loaded)}`);
    say(`  where the time went: ${loadedWhere}`);
    say(`  slowest: ${loadedSlowest}`);
    say(
      `p99 / raw three-hop p99: ${(loaded.p99 / rawLoaded.p99).toFixed(1)} at ${half}/s (goal: at most 3), ` +
        `${(quiet.p99 / rawQuiet.p99).toFixed(1)} quiet; quiet p99 ${quiet.p99.toFixed(1)} ms (goal: at most 50)`,
    );
    process.stdout.write(
      `${JSON.stringify({
        sustainedEventsPerSecond: ramp ? best : null,
        seconds: SECONDS,
        quiet: { p50: quiet.p50, p99: quiet.p99, rawP50: rawQuiet.p50, rawP99: rawQuiet.p99 },
        fourInFlight: { p50: light.p50, p99: light.p99, rawP50: rawLight.p50, rawP99: rawLight.p99 },
        half: { rate: half, p50: loaded.p50, p99: loaded.p99, rawP50: rawLoaded.p50, rawP99: rawLoaded.p99 },
      })}\n`,
    );
  } finally {
    agent.destroy();
    await pool.end();
    await watcher.disconnect();
    await raw.close();
    await stack.stop();
    const admin = kafka.admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(stack.topicPrefix));
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  }
}

main()
  .then(() => process.exit(0))
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
