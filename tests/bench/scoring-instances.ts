/**
 * `pnpm bench:scoring -- --instances N`: the same backlog folded by 1, then by N scoring
 * processes in one consumer group (each a real `services/scoring` process, as `npm start --
 * --instances N` runs them), each run on a fresh database and group; the clock runs from every
 * process being ready until the group's committed offsets reach the end of the topic. On a
 * machine with fewer cores than processes (this one has 2, shared with Kafka and Postgres), more
 * instances mostly add contention: the figure says how much of the work a second process takes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { ensureDatabase } from '@taobi/platform';
import pg from 'pg';
import { BROKERS, committedToEnd, type Scratch, say } from './bench-kit';

const ROOT = resolve(__dirname, '..', '..');
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/taobi';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Takes `--instances N` out of the command line (the positional arguments stay as they were). */
export function instancesFlag(argv = process.argv): number {
  // `pnpm bench:scoring -- --instances 2` passes the `--` on.
  if (argv[2] === '--') argv.splice(2, 1);
  const at = argv.indexOf('--instances');
  if (at < 0) return 1;
  const value = Number(argv[at + 1]);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`--instances wants a number, got ${argv[at + 1]}`);
  argv.splice(at, 2);
  return value;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? done(address.port) : fail()));
    });
  });
}

async function ready(port: number, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`a scoring process exited with ${child.exitCode}`);
    const answer = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
    if (answer?.status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Seconds for `instances` scoring processes to fold the scratch backlog on a database of their own. */
async function foldWith(scratch: Scratch, instances: number): Promise<number> {
  const name = `taobi_bench_${Date.now()}_${randomBytes(3).toString('hex')}`;
  await ensureDatabase(DATABASE_URL, name);
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  const groupId = `bench-scoring-${instances}x-${randomBytes(4).toString('hex')}`;
  const children: ChildProcess[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < instances; i += 1) {
      const port = await freePort();
      ports.push(port);
      children.push(
        spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'services/scoring/src/main.ts'], {
          cwd: ROOT,
          env: {
            ...process.env,
            PORT: String(port),
            KAFKA_BROKERS: BROKERS.join(','),
            KAFKA_TOPIC_PREFIX: scratch.prefix,
            KAFKA_GROUP_ID: groupId,
            DATABASE_URL: url.toString(),
            REDIS_URL,
            REDIS_KEY_PREFIX: `${scratch.prefix}${instances}x:`,
            EVALUATION_SCHEDULE_ENABLED: 'off',
            LOG_LEVEL: 'warn',
          },
          stdio: ['ignore', 'ignore', 'inherit'],
        }),
      );
    }
    await Promise.all(ports.map((port, i) => ready(port, children[i] as ChildProcess)));
    const started = performance.now();
    const topic = `${scratch.prefix}taobi.consumption.v1`;
    const admin = scratch.kafka.admin();
    await admin.connect();
    try {
      while (!(await committedToEnd(admin, groupId, topic))) {
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await admin.disconnect();
    }
    return (performance.now() - started) / 1000;
  } finally {
    await Promise.all(
      children.map(
        (child) =>
          new Promise((done) => {
            if (child.exitCode !== null) return done(0);
            child.once('exit', done);
            child.kill('SIGTERM');
          }),
      ),
    );
    const server = new URL(DATABASE_URL);
    server.pathname = '/postgres';
    const client = new pg.Client({ connectionString: server.toString() });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.end();
  }
}

/** Folds the backlog with 1 and with `instances` processes; prints both rates and their ratio. */
export async function scaleOut(scratch: Scratch, events: number, instances: number): Promise<void> {
  const one = events / (await foldWith(scratch, 1));
  say(`scoring, 1 process: ${Math.round(one)} events/s (offsets committed)`);
  const many = events / (await foldWith(scratch, instances));
  say(
    `scoring, ${instances} processes in one group: ${Math.round(many)} events/s (${(many / one).toFixed(2)} x one)`,
  );
  process.stdout.write(
    `${JSON.stringify({ instances, oneProcessEventsPerSecond: Math.round(one), eventsPerSecond: Math.round(many), ratio: Number((many / one).toFixed(3)) })}\n`,
  );
}
