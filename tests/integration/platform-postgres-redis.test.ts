import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyToStaging, createPool, createRedis, migrate, Redis, withTransaction } from '@taobi/platform';
import { createTestDatabase, testEndpoints, testLogger, uniqueId } from '../support';

describe('Postgres: migrations and a round trip', () => {
  it('when a schema is migrated, then its tables exist, a row round-trips, and a second run applies nothing', async () => {
    const database = await createTestDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'taobi-migrations-'));
    writeFileSync(
      join(dir, '1700000000000_members.sql'),
      '-- Up Migration\nCREATE TABLE sample.members (id text PRIMARY KEY, points bigint NOT NULL);\n-- Down Migration\nDROP TABLE sample.members;\n',
    );
    const pool = createPool({
      connectionString: database.url,
      logger: testLogger(),
      applicationName: 'test',
    });
    try {
      const applied = await migrate({
        databaseUrl: database.url,
        schema: 'sample',
        dir,
        logger: testLogger(),
      });
      expect(applied).toEqual(['1700000000000_members']);

      await withTransaction(pool, (client) =>
        client.query('INSERT INTO sample.members (id, points) VALUES ($1, $2)', ['m-1', 1234]),
      );
      const { rows } = await pool.query('SELECT id, points FROM sample.members');
      expect(rows).toEqual([{ id: 'm-1', points: 1234 }]);

      await expect(
        withTransaction(pool, async (client) => {
          await client.query('INSERT INTO sample.members (id, points) VALUES ($1, $2)', ['m-2', 1]);
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect((await pool.query('SELECT count(*)::int AS n FROM sample.members')).rows[0].n).toBe(1);

      expect(
        await migrate({ databaseUrl: database.url, schema: 'sample', dir, logger: testLogger() }),
      ).toEqual([]);
    } finally {
      await pool.end();
      await database.drop();
    }
  });
});

describe('Postgres: COPY into a staging table', () => {
  it('when rows with escapes and nulls are copied, then they read back exactly, for that transaction only', async () => {
    const database = await createTestDatabase();
    const pool = createPool({
      connectionString: database.url,
      logger: testLogger(),
      applicationName: 'test',
    });
    try {
      await pool.query(
        'CREATE TABLE public.notes (id text PRIMARY KEY, body text, n bigint NOT NULL, at timestamptz, ok boolean NOT NULL DEFAULT true)',
      );
      const at = new Date('2026-11-30T08:00:00.123Z');
      const copied = await withTransaction(pool, async (client) => {
        await copyToStaging(
          client,
          { name: 'notes_in', template: 'public.notes' },
          ['id', 'body', 'n', 'at'],
          [
            ['a', 'tab\there, line\nbreak, back\\slash, cr\r', 1, at],
            ['b', null, 2, null],
          ],
        );
        const { rows } = await client.query('SELECT id, body, n, at, ok FROM notes_in ORDER BY id');
        return rows;
      });
      expect(copied).toEqual([
        { id: 'a', body: 'tab\there, line\nbreak, back\\slash, cr\r', n: 1, at, ok: true },
        { id: 'b', body: null, n: 2, at: null, ok: true },
      ]);
      // ON COMMIT DELETE ROWS: the next transaction on the same connection finds it empty.
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await copyToStaging(client, { name: 'notes_in', template: 'public.notes' }, ['id', 'n'], [['c', 3]]);
        await client.query('COMMIT');
        expect((await client.query('SELECT count(*)::int AS n FROM notes_in')).rows[0].n).toBe(0);
        // A transaction that rolls back undoes the table's creation: the next COPY creates it again.
        await client.query('DISCARD TEMP');
        await client.query('BEGIN');
        await copyToStaging(client, { name: 'notes_in', template: 'public.notes' }, ['id', 'n'], [['d', 4]]);
        await client.query('ROLLBACK');
        await client.query('BEGIN');
        await copyToStaging(client, { name: 'notes_in', template: 'public.notes' }, ['id', 'n'], [['e', 5]]);
        expect((await client.query('SELECT id FROM notes_in')).rows).toEqual([{ id: 'e' }]);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
      await expect(
        withTransaction(pool, (client) =>
          copyToStaging(client, { name: 'x; DROP', template: 'public.notes' }, ['id'], []),
        ),
      ).rejects.toThrow('unsafe staging table');
    } finally {
      await pool.end();
      await database.drop();
    }
  });
});

describe('Redis: a round trip under the key prefix', () => {
  it('when a value is written through the client, then it reads back and lives under the prefix', async () => {
    const prefix = `${uniqueId('t')}:`;
    const redis = createRedis({ url: testEndpoints().redisUrl, keyPrefix: prefix, logger: testLogger() });
    const raw = new Redis(testEndpoints().redisUrl);
    try {
      await redis.set('member:m-1', JSON.stringify({ score: 1000 }), 'EX', 60);
      expect(JSON.parse((await redis.get('member:m-1')) ?? 'null')).toEqual({ score: 1000 });
      expect(await raw.exists(`${prefix}member:m-1`)).toBe(1);
      expect(await raw.exists('member:m-1')).toBe(0);
    } finally {
      await raw.del(`${prefix}member:m-1`);
      redis.disconnect();
      raw.disconnect();
    }
  });
});

describe('Postgres: services migrating one database at once', () => {
  it('when several schemas and two instances of one migrate together, then all succeed and each migration applies once', async () => {
    const database = await createTestDatabase();
    const dirs = ['alpha', 'beta', 'gamma'].map((schema) => {
      const dir = mkdtempSync(join(tmpdir(), `taobi-migrations-${schema}-`));
      writeFileSync(
        join(dir, '1700000000000_init.sql'),
        `-- Up Migration\nCREATE TABLE ${schema}.things (id int PRIMARY KEY);\n-- Down Migration\nDROP TABLE ${schema}.things;\n`,
      );
      return { schema, dir };
    });
    try {
      const runs = await Promise.all(
        [...dirs, dirs[0] as (typeof dirs)[number]].map(({ schema, dir }) =>
          migrate({ databaseUrl: database.url, schema, dir, logger: testLogger() }),
        ),
      );
      // Three schemas migrated; alpha's second instance waited for the first and found nothing to do.
      expect(runs.map((applied) => applied.length).sort()).toEqual([0, 1, 1, 1]);
    } finally {
      await database.drop();
    }
  });
});
