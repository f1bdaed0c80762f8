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
  // What an interrupted run left behind: no run lasts an hour, so older test data is nobody's.
  const staleBefore = Date.now() - 3600_000;
  await dropStaleTestDatabases(environment.databaseUrl, staleBefore);
  const stale = await deleteTestTopics(environment.kafkaBrokers, ({ createdAt }) => createdAt < staleBefore);
  if (stale > 0) process.stdout.write(`[tests] deleted ${stale} test topics left by earlier runs\n`);
}

/** Drops the test databases (`taobi_t_<ms>_<hex>`) created before `staleBefore`. */
async function dropStaleTestDatabases(databaseUrl: string, staleBefore: number): Promise<void> {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'taobi\\_t\\_%'",
    );
    for (const { datname } of rows) {
      const created = Number(datname.split('_')[2]);
      if (Number.isFinite(created) && created < staleBefore) {
        await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      }
    }
  } finally {
    await client.end();
  }
}
