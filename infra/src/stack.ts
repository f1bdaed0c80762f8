/**
 * `npm start`: runs every service in the foreground with prefixed, readable logs, restarts a
 * service that crashes (and says so), prints the service map once all are ready, and on Ctrl-C
 * stops the services and then the infrastructure this run started (TAOBI_STARTED_INFRA).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { consumerGroups } from '@taobi/contracts';
import { DEVELOPMENT_KEYS, developmentIngestKey, instancePort } from '@taobi/platform';
import { formatLogLine } from './log-format';
import { discoverServices, type ServiceInfo } from './services';

const ROOT = resolve(__dirname, '..', '..');
/**
 * A second stack beside the usual one (e.g. in a test) moves every port by TAOBI_PORT_OFFSET; with a
 * KAFKA_TOPIC_PREFIX, the services prefix their consumer groups too (`consumerGroupId` in
 * @taobi/contracts, their KAFKA_GROUP_ID default), so the two never share a group and the CLI finds
 * them under the same names.
 */
const PORT_OFFSET = Number(process.env.TAOBI_PORT_OFFSET ?? 0);
/**
 * `--instances N` (scripts/taobi.sh passes it as TAOBI_INSTANCES): N processes of every consuming
 * service (scoring, tier, entitlement), sharing their consumer group, instance i on its port moved by
 * `instancePort`. The other services are stateless HTTP and stay at one here.
 */
const INSTANCES = Math.max(1, Number(process.env.TAOBI_INSTANCES ?? 1));
const SCALED = new Set<string>(consumerGroups().map((group) => group.service));
const portOf = (entry: { service: ServiceInfo; instance: number }) =>
  instancePort(entry.service.port + PORT_OFFSET, entry.instance);
const nameOf = (entry: { service: ServiceInfo; instance: number }) =>
  entry.instance === 0 ? entry.service.name : `${entry.service.name}#${entry.instance + 1}`;
const colour = process.stdout.isTTY === true;
const PALETTE = [
  '\x1b[36m',
  '\x1b[35m',
  '\x1b[34m',
  '\x1b[33m',
  '\x1b[32m',
  '\x1b[96m',
  '\x1b[95m',
  '\x1b[94m',
];

interface Running {
  service: ServiceInfo;
  instance: number;
  child?: ChildProcess;
  prefix: string;
  restarts: number;
  startedAt: number;
}

let stopping = false;

function print(prefix: string, line: string): void {
  process.stdout.write(`${prefix} ${line}\n`);
}

function say(line: string): void {
  print(colour ? '\x1b[1m[stack]\x1b[0m' : '[stack]', line);
}

function launch(entry: Running): void {
  const { service } = entry;
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', service.main], {
    cwd: ROOT,
    env: {
      TAOBI_ENV: 'development',
      ...process.env,
      PORT: String(portOf(entry)),
    },
    // The IPC channel closes when this supervisor dies, however it dies: the service then shuts
    // down (platform's onShutdownSignal) instead of living on, holding its port.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  entry.child = child;
  entry.startedAt = Date.now();
  for (const stream of [child.stdout, child.stderr]) {
    if (stream)
      createInterface({ input: stream }).on('line', (line) =>
        print(entry.prefix, formatLogLine(line, colour)),
      );
  }
  child.on('exit', (code, signal) => {
    entry.child = undefined;
    if (stopping) return;
    // A service that ran for a minute earns a fresh backoff; one that keeps dying waits longer.
    if (Date.now() - entry.startedAt > 60_000) entry.restarts = 0;
    const delay = Math.min(1000 * 2 ** entry.restarts, 30_000);
    entry.restarts += 1;
    say(
      `${nameOf(entry)} exited (${signal ?? `code ${code}`}); restart #${entry.restarts} in ${delay / 1000}s`,
    );
    setTimeout(() => !stopping && launch(entry), delay).unref();
  });
}

async function isReady(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
    return response.status === 200;
  } catch {
    return false;
  }
}

async function announceWhenReady(entries: Running[]): Promise<boolean> {
  const deadline = Date.now() + 120_000;
  let pending = entries;
  while (!stopping && pending.length > 0) {
    const states = await Promise.all(pending.map((e) => isReady(portOf(e))));
    pending = pending.filter((_, i) => !states[i]);
    if (pending.length === 0) break;
    if (Date.now() > deadline) {
      say(`still not ready after 2 minutes: ${pending.map(nameOf).join(', ')} (see their logs above)`);
      return false;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  if (stopping) return false;
  const width = Math.max(...entries.map((e) => nameOf(e).length), 7);
  say('Taobi is up. Services:');
  for (const entry of entries) {
    say(
      `  ${nameOf(entry).padEnd(width)}  http://127.0.0.1:${portOf(entry)}  (pid ${entry.child?.pid})  ${entry.service.description}`,
    );
  }
  say(`Kafka: ${process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'}`);
  say('Every service serves /healthz, /readyz and /metrics.');
  // One ingest key per ingest-<source> service found, then the read and admin keys.
  const ingestKeys = entries
    .map((e) => /^ingest-(.+)$/.exec(e.service.name)?.[1])
    .filter((source): source is string => source !== undefined)
    .map((source) => [source, developmentIngestKey(source)]);
  say(
    `Development keys: ${[...ingestKeys, ...Object.entries(DEVELOPMENT_KEYS)]
      .map(([k, v]) => `${k}=${v}`)
      .join('  ')}`,
  );
  const consoleEntry = entries.find((e) => e.service.name === 'console');
  if (consoleEntry) {
    say(
      `Web console: http://127.0.0.1:${portOf(consoleEntry)}  (sign in with ${DEVELOPMENT_KEYS.read} or ${DEVELOPMENT_KEYS.admin})`,
    );
  }
  say('Press Ctrl-C to stop everything this command started.');
  return true;
}

/** `npm start -- --demo` (or `npm start --demo`, which npm passes as npm_config_demo): the demo once ready. */
function runDemo(): void {
  const prefix = colour ? '\x1b[1mdemo            \x1b[0m|' : 'demo            |';
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', 'packages/cli/src/main.ts', 'demo'],
    {
      cwd: ROOT,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on('line', (line) => print(prefix, line));
  }
  child.on('exit', (code) => say(`demo finished (exit ${code}); the stack keeps running until Ctrl-C`));
}

async function stopAll(entries: Running[]): Promise<void> {
  if (stopping) return;
  stopping = true;
  say('stopping services...');
  await Promise.all(
    entries.map(
      (entry) =>
        new Promise<void>((done) => {
          const child = entry.child;
          if (!child || child.exitCode !== null) return done();
          const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
          child.once('exit', () => {
            clearTimeout(kill);
            done();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  const started = (process.env.TAOBI_STARTED_INFRA ?? '').split(/\s+/).filter(Boolean);
  if (started.length > 0) {
    say(`stopping what this run started: ${started.join(', ')}`);
    try {
      execFileSync('bash', [join(ROOT, 'infra', 'bin', 'down.sh'), ...started], { stdio: 'inherit' });
    } catch {
      say('could not stop all of it; see above');
    }
  }
  say('stopped.');
}

async function main(): Promise<void> {
  const services = discoverServices(ROOT);
  const instances = services.flatMap((service) =>
    Array.from({ length: SCALED.has(service.name) ? INSTANCES : 1 }, (_, instance) => ({
      service,
      instance,
    })),
  );
  const entries: Running[] = instances.map((entry, i) => ({
    ...entry,
    prefix: colour
      ? `${PALETTE[i % PALETTE.length]}${nameOf(entry).padEnd(16)}\x1b[0m|`
      : `${nameOf(entry).padEnd(16)}|`,
    restarts: 0,
    startedAt: 0,
  }));
  const shutdown = () => void stopAll(entries).then(() => process.exit(0));
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  if (entries.length === 0) {
    say(
      'infrastructure is up (Kafka 127.0.0.1:9092, Postgres 127.0.0.1:5432, Redis 127.0.0.1:6379); no services exist yet.',
    );
    say('Press Ctrl-C to stop.');
    setInterval(() => undefined, 1 << 30);
    return;
  }
  for (const entry of entries) launch(entry);
  const ready = await announceWhenReady(entries);
  if (ready && (process.argv.includes('--demo') || process.env.npm_config_demo === 'true')) runDemo();
}

void main();
