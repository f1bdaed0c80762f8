/**
 * `pnpm bench:ingest`: HTTP ingest throughput next to raw kafkajs `sendBatch`, in one run on one
 * machine, so the ratios mean something even where the absolute numbers do not.
 *
 *   1. raw:    one idempotent producer (acks -1, as the service's), sendBatch of 500 records in a loop;
 *   2. single: ingest-ecommerce as its own process, N concurrent clients POSTing one event each
 *              over keep-alive HTTP sockets;
 *   3. batch:  the same service, a few clients POSTing { events: [500] };
 *   4. bare:   a bare fastify route as its own process (tests/bench/bare-ingest.ts: validates
 *              nothing, answers 202), the same N clients POSTing the same single-event bodies: the
 *              ceiling of HTTP on this machine, which single-event POSTs are compared with. Its
 *              phases alternate with the single-event ones (BENCH_ROUNDS of each, SECONDS split
 *              between them), so that a change of the machine's load falls on both sides;
 *   5. ceiling: in this process, the same N callers each publishing one record at a time through
 *              the service's batching publisher (same linger, acks -1), no HTTP: the most that
 *              single events can do while each waits for the broker's acknowledgement. Its
 *              phases alternate with the other two.
 * Each phase runs for a fixed time on topics of its own prefix (deleted at the end). The run
 * checks that the topic holds exactly what was acknowledged. Beside the rates it prints the CPU
 * per request (/proc) of the service, of the bare route and of this process's clients against
 * each, over the alternated phases: on a machine of two cores the clients, the servers and the
 * broker share them, so the single/bare ratio is one of machine time per request and moves with
 * whatever else runs, where each process's CPU per request moves far less.
 *
 * Options (env): BENCH_SECONDS (10), BENCH_ROUNDS (3), BENCH_WARM_UP_SECONDS (5, each side), BENCH_SINGLE_CLIENTS (64),
 * BENCH_BATCH_CLIENTS (4), KAFKA_BROKERS (127.0.0.1:9092). Not a test: nothing asserts a speed.
 */
import { Agent } from 'node:http';
import { consumptionEventId, topicSpecs } from '@taobi/contracts';
import { createBatchingPublisher } from '@taobi/ingest';
import { connectProducer, createKafka, createLogger, ensureTopics, publish } from '@taobi/platform';
import { freePort, ServiceProcess, uniqueId } from '../support';
import { post } from './post-event';
import { processCpuSeconds } from './process-cpu';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const WARM_UP_SECONDS = Number(process.env.BENCH_WARM_UP_SECONDS ?? 5);
const SINGLE_CLIENTS = Number(process.env.BENCH_SINGLE_CLIENTS ?? 64);
const BATCH_CLIENTS = Number(process.env.BENCH_BATCH_CLIENTS ?? 4);
const BATCH = 500;
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

const logger = createLogger({ name: 'bench', level: 'warn' });
const kafka = createKafka({ brokers: BROKERS, clientId: 'taobi-bench', logger });
let sequence = 0;

/** An ingest body: a Tmall order by one of 10,000 members, a minute ago. */
function order(): Record<string, unknown> {
  sequence += 1;
  return {
    type: 'order.completed',
    orderId: `bench-${process.pid}-${sequence}`,
    memberId: `m-${sequence % 10_000}`,
    amount: 1000 + (sequence % 50_000),
    currency: 'CNY',
    channel: 'tmall',
    category: 'physical',
    merchantId: `shop-${sequence % 500}`,
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
  };
}

/** The canonical record the service would publish for `order()`, for the raw baseline. */
function canonical(body: Record<string, unknown>): Record<string, unknown> {
  const { type: _type, ...rest } = body;
  return {
    ...rest,
    eventId: consumptionEventId('ecommerce', 'completed', body.orderId as string),
    schemaVersion: 1,
    kind: 'completed',
    source: 'ecommerce',
    receivedAt: new Date().toISOString(),
  };
}

async function forSeconds(seconds: number, worker: () => Promise<number>, workers: number): Promise<number> {
  const until = Date.now() + seconds * 1000;
  let events = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (Date.now() < until) {
        // Not `events += await worker()`: that reads `events` before the await and loses the
        // other workers' increments.
        const done = await worker();
        events += done;
      }
    }),
  );
  return events;
}

async function timed(run: () => Promise<number>): Promise<{ events: number; perSecond: number }> {
  const started = process.hrtime.bigint();
  const events = await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { events, perSecond: events / seconds };
}

async function topicSize(topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

async function deleteTopics(prefixes: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: prefixes.flatMap((p) => topicSpecs(p).map((t) => t.topic)) });
  } finally {
    await admin.disconnect();
  }
}

/** Sends, failed sends and records per sendBatch, from the service's own metrics. */
function summarisePublishMetrics(text: string): string {
  const value = (pattern: RegExp) =>
    text
      .split('\n')
      .filter((line) => pattern.test(line))
      .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
  const sends = value(/^taobi_ingest_publish_batch_records_count/);
  const records = value(/^taobi_ingest_publish_batch_records_sum/);
  const failed = value(/^taobi_ingest_publish_duration_seconds_count\{[^}]*outcome="failed"/);
  const seconds = value(/^taobi_ingest_publish_duration_seconds_sum/);
  return `${sends} sendBatch calls (${failed} failed), ${(records / Math.max(sends, 1)).toFixed(1)} records and ${((seconds / Math.max(sends, 1)) * 1000).toFixed(1)} ms each on average`;
}

async function main(): Promise<void> {
  const rawPrefix = `${uniqueId('bench')}.`;
  const httpPrefix = `${uniqueId('bench')}.`;
  await ensureTopics(kafka, [...topicSpecs(rawPrefix), ...topicSpecs(httpPrefix)]);
  const rawTopic = `${rawPrefix}taobi.consumption.v1`;
  const httpTopic = `${httpPrefix}taobi.consumption.v1`;
  console.log(`ingest benchmark: ${SECONDS}s per phase, brokers ${BROKERS.join(',')}`);

  // 1. Raw kafkajs: what the broker and client can do without HTTP, validation or batching logic.
  const producer = await connectProducer(kafka);
  const raw = await timed(() =>
    forSeconds(
      SECONDS,
      async () => {
        const records = Array.from({ length: BATCH }, () => {
          const value = canonical(order());
          return { topic: rawTopic, key: value.memberId as string, value };
        });
        await publish(producer, records);
        return BATCH;
      },
      1,
    ),
  );
  await producer.disconnect();
  console.log(`raw kafkajs sendBatch (${BATCH}/batch): ${raw.perSecond.toFixed(0)} events/s`);

  // 2, 3 and 4. The service and the bare route, each as its own process, over real sockets.
  const port = await freePort();
  const service = ServiceProcess.start('services/ingest-ecommerce/src/main.ts', {
    PORT: String(port),
    KAFKA_BROKERS: BROKERS.join(','),
    KAFKA_TOPIC_PREFIX: httpPrefix,
    LOG_LEVEL: 'warn',
    INGEST_RATE_LIMIT_PER_SECOND: '0',
  });
  const barePort = await freePort();
  const bareServer = ServiceProcess.start('tests/bench/bare-ingest.ts', { PORT: String(barePort) });
  const failures: string[] = [];
  const single = { events: 0, perSecond: 0 };
  const bare = { events: 0, perSecond: 0 };
  const rounds: { single: number; bare: number; ceiling: number }[] = [];
  // CPU seconds over the alternated phases: each server's, and this process's (the clients') during each.
  const cpu = { service: 0, bare: 0, clientsOfService: 0, clientsOfBare: 0, measured: true };
  const ceilingPublisher = createBatchingPublisher({
    connect: () => connectProducer(kafka),
    lingerMs: 2,
    maxBatchRecords: 2000,
    timeoutMs: 10_000,
    logger,
  });
  const publishOne = async () => {
    const value = canonical(order());
    await ceilingPublisher.publish([{ topic: rawTopic, key: value.memberId as string, value }]);
    return 1;
  };
  let batch = { events: 0, perSecond: 0 };
  const phaseEvents = { single: 0, bare: 0 };
  let publishStats = '';
  try {
    await service.waitUntilListening(`http://127.0.0.1:${port}`);
    await bareServer.waitUntilListening(`http://127.0.0.1:${barePort}`);
    const agent = new Agent({ keepAlive: true, maxSockets: Math.max(SINGLE_CLIENTS, BATCH_CLIENTS) });
    const bareAgent = new Agent({ keepAlive: true, maxSockets: SINGLE_CLIENTS });
    const send = async (body: unknown, events: number) => {
      const response = await post(agent, port, body);
      if (response.status === 202) return events;
      if (failures.length < 5) failures.push(`${response.status} ${response.body.slice(0, 200)}`);
      return 0;
    };
    const sendBare = async () => ((await post(bareAgent, barePort, order())).status === 202 ? 1 : 0);
    // Warm up: producer connected, JIT, sockets open. Each side as long: one second left the service
    // short of its steady state (the bare route has far less code to compile), its first round at
    // about 1.4x the CPU per request of the later ones and the lowest ratio of the three.
    await forSeconds(WARM_UP_SECONDS, () => send(order(), 1), SINGLE_CLIENTS).then((events) => {
      single.events += events;
    });
    await forSeconds(WARM_UP_SECONDS, sendBare, SINGLE_CLIENTS);
    await forSeconds(WARM_UP_SECONDS, publishOne, SINGLE_CLIENTS);
    const phase = SECONDS / ROUNDS;
    /** `run`, with the CPU its server and this process spent meanwhile. */
    const withCpu = async (
      pid: number | undefined,
      run: () => Promise<{ events: number; perSecond: number }>,
    ) => {
      const [serverBefore, clientsBefore] = [await processCpuSeconds(pid), process.cpuUsage()];
      const result = await run();
      const [serverAfter, clients] = [await processCpuSeconds(pid), process.cpuUsage(clientsBefore)];
      if (serverBefore === undefined || serverAfter === undefined) cpu.measured = false;
      return {
        ...result,
        server: (serverAfter ?? 0) - (serverBefore ?? 0),
        clients: (clients.user + clients.system) / 1e6,
      };
    };
    for (let round = 0; round < ROUNDS; round++) {
      const ours = await withCpu(service.pid, () =>
        timed(() => forSeconds(phase, () => send(order(), 1), SINGLE_CLIENTS)),
      );
      const theirs = await withCpu(bareServer.pid, () =>
        timed(() => forSeconds(phase, sendBare, SINGLE_CLIENTS)),
      );
      cpu.service += ours.server;
      cpu.clientsOfService += ours.clients;
      cpu.bare += theirs.server;
      cpu.clientsOfBare += theirs.clients;
      const ceiling = await timed(() => forSeconds(phase, publishOne, SINGLE_CLIENTS));
      single.events += ours.events;
      bare.events += theirs.events;
      phaseEvents.single += ours.events;
      phaseEvents.bare += theirs.events;
      rounds.push({ single: ours.perSecond, bare: theirs.perSecond, ceiling: ceiling.perSecond });
    }
    single.perSecond = rounds.reduce((sum, r) => sum + r.single, 0) / ROUNDS;
    bare.perSecond = rounds.reduce((sum, r) => sum + r.bare, 0) / ROUNDS;
    bareAgent.destroy();
    console.log(
      `HTTP single-event POSTs (${SINGLE_CLIENTS} clients): ${single.perSecond.toFixed(0)} events/s; bare fastify route: ${bare.perSecond.toFixed(0)} events/s (${ROUNDS} alternated rounds)`,
    );
    batch = await timed(() =>
      forSeconds(SECONDS, () => send({ events: Array.from({ length: BATCH }, order) }, BATCH), BATCH_CLIENTS),
    );
    console.log(
      `HTTP ${BATCH}-event batch POSTs (${BATCH_CLIENTS} clients): ${batch.perSecond.toFixed(0)} events/s`,
    );
    agent.destroy();
    publishStats = summarisePublishMetrics(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
  } finally {
    await Promise.all([service.stop('SIGTERM'), bareServer.stop('SIGTERM'), ceilingPublisher.close()]);
  }
  const warnings = service.output.split('\n').filter((line) => /"level":"(warn|error)"/.test(line));

  const onTopic = await topicSize(httpTopic);
  const acknowledged = single.events + batch.events;
  console.log('');
  console.log('| path | events/s | vs raw sendBatch |');
  console.log('|---|---:|---:|');
  console.log(`| raw kafkajs sendBatch, ${BATCH}/batch | ${raw.perSecond.toFixed(0)} | 1.00 |`);
  for (const [name, result] of [
    [`HTTP single-event POSTs, ${SINGLE_CLIENTS} clients`, single],
    [`HTTP ${BATCH}-event batch POSTs, ${BATCH_CLIENTS} clients`, batch],
  ] as const) {
    console.log(
      `| ${name} | ${result.perSecond.toFixed(0)} | ${(result.perSecond / raw.perSecond).toFixed(2)} |`,
    );
  }
  console.log('');
  console.log(
    `single-event POSTs / bare fastify route: ${(single.perSecond / bare.perSecond).toFixed(2)} (goal: at least 0.5); by round: ${rounds.map((r) => (r.single / r.bare).toFixed(2)).join(', ')}`,
  );
  if (cpu.measured) {
    const us = (seconds: number, events: number) => ((seconds / Math.max(events, 1)) * 1e6).toFixed(1);
    // The ratio above is one of machine time: on a small machine the clients (this process), the
    // servers and the broker share the cores, so what a request costs each is printed too.
    console.log(
      `CPU per request in the alternated phases: service ${us(cpu.service, phaseEvents.single)} us, bare route ${us(cpu.bare, phaseEvents.bare)} us; the clients (this process) ${us(cpu.clientsOfService, phaseEvents.single)} us against the service, ${us(cpu.clientsOfBare, phaseEvents.bare)} us against the bare route`,
    );
  }
  const ceilingPerSecond = rounds.reduce((sum, r) => sum + r.ceiling, 0) / rounds.length;
  console.log(
    `ceiling: one record per caller through the batching publisher, no HTTP (${SINGLE_CLIENTS} callers): ${ceilingPerSecond.toFixed(0)} events/s = ${(ceilingPerSecond / bare.perSecond).toFixed(2)} of the bare route; by round: ${rounds.map((r) => (r.ceiling / r.bare).toFixed(2)).join(', ')}`,
  );
  console.log(
    `acknowledged by HTTP: ${acknowledged}; on the topic: ${onTopic} (${onTopic === acknowledged ? 'equal' : 'DIFFERENT'})`,
  );
  console.log(`service: ${publishStats}; ${warnings.length} warning/error log lines`);
  for (const line of warnings.slice(0, 5)) console.log(`  ${line.slice(0, 300)}`);
  if (failures.length > 0)
    console.log(`non-202 answers (first ${failures.length}):\n  ${failures.join('\n  ')}`);
  await deleteTopics([rawPrefix, httpPrefix]);
}

main()
  .then(() => process.exit(0))
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
