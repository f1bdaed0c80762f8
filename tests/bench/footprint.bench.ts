/**
 * `pnpm bench:footprint [events] [members]`: what one member costs in Redis and one ledger event
 * costs in Postgres, after the real scoring service folded the backlog of `pnpm bench:scoring`.
 *
 * - Redis: the sum of `MEMORY USAGE <key> SAMPLES 0` over the read-model keys the fold wrote (one
 *   score entry per member, under the scratch's key prefix), divided by the members.
 * - Postgres: `pg_total_relation_size` (heap, TOAST and every index) of the ledger tables (orders,
 *   refunds, and the labels their codes stand for) divided by the events they hold, after a VACUUM so dead tuples do not count; the
 *   service's other tables (buckets, members, score versions, outbox) per member beside it. Ledger
 *   rows the fold updated would be counted too (none since an order's points are derived; a refund
 *   re-credited its order's row before): an update that is not HOT (no room on the row's page)
 *   leaves the old row dead, its space freed by the VACUUM but counted, and adds an entry to every
 *   index of the table. The ledger's average row (`pg_column_size` of the row: header and data; a
 *   row takes a multiple of 8 bytes on its page, plus a 4-byte pointer) is printed beside.
 * Not a test: nothing asserts a size. Goals (issue 16): at most 200 B per member in Redis and 150 B
 * per ledger event in Postgres.
 */
import type { ConsumptionEvent } from '@taobi/contracts';
import { createRedis } from '@taobi/platform';
import pg from 'pg';
import { foldLive, ledgerSize, logger, type Scratch, say, withBacklog } from './bench-kit';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const REDIS_GOAL = 200;
const POSTGRES_GOAL = 150;

async function redisBytes(prefix: string): Promise<{ keys: number; bytes: number }> {
  const redis = createRedis({ url: REDIS_URL, keyPrefix: '', logger });
  try {
    let cursor = '0';
    let keys = 0;
    let bytes = 0;
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      const pipeline = redis.pipeline();
      for (const key of found) pipeline.memory('USAGE', key, 'SAMPLES', 0);
      for (const [error, usage] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        keys += 1;
        bytes += Number(usage ?? 0);
      }
    } while (cursor !== '0');
    return { keys, bytes };
  } finally {
    redis.disconnect();
  }
}

/** The ledger rows updated, and those updated in place (HOT), per table, since the database was made. */
async function ledgerUpdates(db: pg.Client): Promise<{ table: string; updated: number; hot: number }[]> {
  const { rows } = await db.query<{ table: string; updated: string; hot: string }>(
    `SELECT relname AS table, n_tup_upd AS updated, n_tup_hot_upd AS hot FROM pg_stat_user_tables
     WHERE schemaname = 'scoring' AND relname IN ('orders', 'refunds') ORDER BY relname`,
  );
  return rows.map((row) => ({ table: row.table, updated: Number(row.updated), hot: Number(row.hot) }));
}

/** The average and largest row of the ledger tables, in bytes (header and data). */
async function rowWidths(db: pg.Client): Promise<{ table: string; average: number; largest: number }[]> {
  const { rows } = await db.query<{ table: string; average: number; largest: number }>(
    `SELECT 'orders' AS table, avg(pg_column_size(o.*))::float8 AS average, max(pg_column_size(o.*)) AS largest
     FROM scoring.orders o
     UNION ALL
     SELECT 'refunds', avg(pg_column_size(r.*))::float8, max(pg_column_size(r.*)) FROM scoring.refunds r`,
  );
  return rows;
}

/** Every table (heap, TOAST, indexes) and every index (alone) of the scoring schema, in bytes. */
async function tableBytes(db: pg.Client): Promise<Map<string, number>> {
  await db.query('VACUUM ANALYZE');
  const { rows } = await db.query<{ name: string; bytes: string }>(
    `SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'scoring' AND c.relkind IN ('r', 'i')`,
  );
  return new Map(rows.map((row) => [row.name, Number(row.bytes)]));
}

async function bench(scratch: Scratch, _topic: string, events: ConsumptionEvent[]): Promise<void> {
  const live = await foldLive(scratch);
  await live.service.stop();
  const ledger = await ledgerSize(scratch);
  say(`folded ${events.length} events: the ledger holds ${ledger.events} for ${ledger.members} members`);

  const redis = await redisBytes(scratch.prefix);
  // Per entry: a member whose Redis write failed (the relay's after-publish step, on a loaded
  // machine) has none until a read repairs it.
  const perMember = redis.bytes / Math.max(redis.keys, 1);
  say(
    `Redis: ${redis.keys} keys for ${ledger.members} members, ${redis.bytes} bytes: ${perMember.toFixed(0)} B per member (goal: at most ${REDIS_GOAL})`,
  );

  const db = new pg.Client({ connectionString: scratch.databaseUrl });
  await db.connect();
  let updates: Awaited<ReturnType<typeof ledgerUpdates>>;
  let tables: Map<string, number>;
  let rows: Awaited<ReturnType<typeof rowWidths>>;
  try {
    // Read before tableBytes' VACUUM (the service has stopped: its statistics are flushed).
    updates = await ledgerUpdates(db);
    tables = await tableBytes(db);
    rows = await rowWidths(db);
  } finally {
    await db.end();
  }
  // The label codes' dictionary (scoring.labels) is part of the ledger: a few rows, whatever its size.
  const ledgerBytes =
    (tables.get('orders') ?? 0) + (tables.get('refunds') ?? 0) + (tables.get('labels') ?? 0);
  const perEvent = ledgerBytes / ledger.events;
  say(
    `Postgres ledger (orders, refunds, labels; heap, TOAST, indexes): ${ledgerBytes} bytes: ${perEvent.toFixed(0)} B per event (goal: at most ${POSTGRES_GOAL})`,
  );
  for (const { table, updated, hot } of updates) {
    say(`  scoring.${table}: ${updated} rows updated by the fold, ${hot} of them in place (HOT)`);
  }
  for (const { table, average, largest } of rows) {
    say(`  scoring.${table}: rows of ${average.toFixed(1)} bytes on average, ${largest} at most`);
  }
  // Tables include their indexes; an index's line is that index alone.
  for (const [name, bytes] of [...tables].sort((a, b) => b[1] - a[1])) {
    say(
      `  scoring.${name}: ${bytes} bytes (${(bytes / ledger.events).toFixed(0)} B per event, ${(bytes / ledger.members).toFixed(0)} B per member)`,
    );
  }
  process.stdout.write(
    `${JSON.stringify({
      events: ledger.events,
      members: ledger.members,
      redisBytesPerMember: Math.round(perMember),
      postgresLedgerBytesPerEvent: Math.round(perEvent),
    })}\n`,
  );
}

withBacklog(bench).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
