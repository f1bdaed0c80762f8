import { randomBytes } from 'node:crypto';
import { type TopicNames, topicNames, topicSpecs } from '@taobi/contracts';
import {
  createKafka,
  createLogger,
  ensureDatabase,
  ensureTopics,
  type Kafka,
  type Logger,
} from '@taobi/platform';
import { Client } from 'pg';
import { testTopicPrefix } from './test-topics';

export interface Endpoints {
  kafkaBrokers: string[];
  databaseUrl: string;
  redisUrl: string;
}

/** The endpoints jest's global setup resolved for this run. */
export function testEndpoints(): Endpoints {
  const { KAFKA_BROKERS, DATABASE_URL, REDIS_URL } = process.env;
  if (!KAFKA_BROKERS || !DATABASE_URL || !REDIS_URL) {
    throw new Error(
      'test endpoints are missing: run the tests through `npm test` (see tests/support/environment.ts)',
    );
  }
  return { kafkaBrokers: KAFKA_BROKERS.split(','), databaseUrl: DATABASE_URL, redisUrl: REDIS_URL };
}

/** A short id unique to this test, e.g. `m-lq2x3k-9f1c2a`. */
export function uniqueId(prefix = 't'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** Test logs are silent unless TEST_LOG_LEVEL says otherwise. */
export function testLogger(name = 'test'): Logger {
  return createLogger({ name, level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}

export function testKafka(brokers = testEndpoints().kafkaBrokers, logger = testLogger('kafka')): Kafka {
  return createKafka({ brokers, clientId: uniqueId('test'), logger });
}

/**
 * Polls `probe` until it returns something other than undefined/false, or fails after the
 * deadline with `description` and the last value seen. Tests wait for outcomes, never sleep.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number; description?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const why = lastError ? ` (last error: ${(lastError as Error).message})` : '';
      throw new Error(`timed out waiting for ${options.description ?? 'a condition'}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}

/** Every Taobi topic under a prefix of this test's own, created on the broker (and deleted after the run). */
export async function createTestTopics(kafka = testKafka()): Promise<{ prefix: string; topics: TopicNames }> {
  const prefix = testTopicPrefix();
  await ensureTopics(kafka, topicSpecs(prefix));
  return { prefix, topics: topicNames(prefix) };
}

/** A fresh database of this test's own (name `taobi_t_<ms>_<hex>`); `drop()` removes it. */
export async function createTestDatabase(): Promise<{
  url: string;
  name: string;
  drop: () => Promise<void>;
}> {
  const base = testEndpoints().databaseUrl;
  const name = `taobi_t_${Date.now()}_${randomBytes(3).toString('hex')}`;
  await ensureDatabase(base, name);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const admin = new URL(base);
      admin.pathname = '/postgres';
      const client = new Client({ connectionString: admin.toString() });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** The value of one Prometheus sample in `/metrics` text, or undefined. */
export function metricValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}
