import { runner } from 'node-pg-migrate';
import pg from 'pg';
import type { Logger } from './logger';

export type { Pool, PoolClient } from 'pg';

// bigint (int8) and numeric come back as strings by default; points and fen fit in a double.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function createPool(options: {
  connectionString: string;
  logger: Logger;
  applicationName: string;
  max?: number;
}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    application_name: options.applicationName,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5000,
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', (error) => options.logger.warn({ err: error }, 'idle Postgres client failed'));
  return pool;
}

/**
 * A statement answering at most one row (a lookup by key, a single-row update), as a function of
 * a connection and the statement's parameters in order ($1, $2, ...): the row, or undefined. `D`
 * narrows the connection, e.g. to `PoolClient` for a statement that belongs in a transaction.
 */
export function oneRow<
  R extends pg.QueryResultRow,
  P extends unknown[],
  D extends pg.Pool | pg.PoolClient = pg.Pool | pg.PoolClient,
>(sql: string): (db: D, ...params: P) => Promise<R | undefined> {
  return async (db, ...params) => (await db.query<R>(sql, params)).rows[0];
}

/** Runs `fn` in one transaction; rolls back and rethrows on any error. */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Applies a service's pending migrations to its own schema (creating it if needed). Migration files
 * are SQL with `-- Up Migration` / `-- Down Migration` sections, or CommonJS modules exporting `up`
 * and `down` (the outbox's, from outbox-migrations.ts); a migration is recorded under its file name
 * without the extension.
 *
 * node-pg-migrate's own lock is one advisory lock for the whole database that fails at once when
 * taken, so services sharing a database and starting together (npm start, docker compose) would
 * fail each other's start. Instead each schema has its own lock, and a second instance of the same
 * service waits for the first to finish rather than failing.
 */
export async function migrate(options: {
  databaseUrl: string;
  schema: string;
  dir: string;
  logger: Logger;
}): Promise<string[]> {
  const log = options.logger.child({ component: 'migrations', schema: options.schema });
  const lockKey = `taobi:migrations:${options.schema}`;
  const client = new pg.Client({
    connectionString: options.databaseUrl,
    application_name: 'taobi-migrations',
  });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
    const applied = await runner({
      dbClient: client,
      noLock: true,
      dir: options.dir,
      direction: 'up',
      count: Number.POSITIVE_INFINITY,
      schema: options.schema,
      createSchema: true,
      migrationsSchema: options.schema,
      createMigrationsSchema: true,
      migrationsTable: 'migrations',
      checkOrder: true,
      log: (message: string) => log.debug(message),
      logger: {
        debug: (message: string) => log.debug(message),
        info: (message: string) => log.debug(message),
        warn: (message: string) => log.warn(message),
        error: (message: string) => log.error(message),
      },
    });
    const names = applied.map((migration) => migration.name);
    if (names.length > 0) log.info({ applied: names }, 'migrations applied');
    return names;
  } finally {
    // Ending the session releases the lock too; unlocking first keeps pooled proxies honest.
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => undefined);
    await client.end();
  }
}

/** Creates database `name` on the server of `serverUrl` unless it exists. */
export async function ensureDatabase(serverUrl: string, name: string): Promise<boolean> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe database name: ${name}`);
  const url = new URL(serverUrl);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    await client.query(`CREATE DATABASE "${name}"`);
    return true;
  } catch (error) {
    // Two processes creating it at once: the loser sees a duplicate, which is fine.
    if ((error as { code?: string }).code === '42P04') return false;
    throw error;
  } finally {
    await client.end();
  }
}
