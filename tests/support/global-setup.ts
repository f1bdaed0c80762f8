import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { resolveTestEnvironment, type TestEnvironment } from './environment';
import { deleteTestTopics } from './test-topics';

declare global {
  // Shared between jest's global setup and teardown (same process).
  var taobiTestEnvironment: TestEnvironment | undefined;
}

/** Resolves the infrastructure once per run and hands it to every worker through the environment. */
export default async function globalSetup(): Promise<void> {
  const environment = await resolveTestEnvironment();
  globalThis.taobiTestEnvironment = environment;
  process.env.KAFKA_BROKERS = environment.kafkaBrokers.join(',');
  process.env.DATABASE_URL = environment.databaseUrl;
  process.env.REDIS_URL = environment.redisUrl;
  // Names this run's test topics, which the global teardown deletes.
  process.env.TAOBI_TEST_RUN = randomBytes(3).toString('hex');
  await dropStaleTestDatabases(environment.databaseUrl);
  const hourAgo = Date.now() - 3600_000;
  const stale = await deleteTestTopics(environment.kafkaBrokers, ({ createdAt }) => createdAt < hourAgo);
  if (stale > 0) process.stdout.write(`[tests] deleted ${stale} test topics left by earlier runs\n`);
}

/** Test databases left behind by an interrupted run (older than an hour) are dropped. */
async function dropStaleTestDatabases(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'taobi\\_t\\_%'",
    );
    const hourAgo = Date.now() - 3600_000;
    for (const { datname } of rows) {
      const created = Number(datname.split('_')[2]);
      if (Number.isFinite(created) && created < hourAgo) {
        await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      }
    }
  } finally {
    await client.end();
  }
}
