import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { migrate } from '@taobi/platform';
import pg from 'pg';
import { createTestDatabase, REPO_ROOT, testLogger } from '../support';

/**
 * The outbox's DDL lives once, in @taobi/platform (outbox-migrations.ts), and the services'
 * migrations call it. A database migrated before that (by SQL migrations that each wrote the DDL
 * out) and a fresh one must end with the same outbox tables: the fixture is the catalog of a
 * database the old migrations built (with its payload column then made `json` by the
 * `outbox-payload-json` step), and every service's tables must match it.
 */
const SERVICES = ['entitlement', 'scoring', 'tier'];
const FIXTURE = join(__dirname, 'fixtures', 'outbox-schema.json');

/** Columns, constraints, indexes and sequences of `schema`'s outbox tables, the schema name as `<schema>`. */
async function describeOutbox(client: pg.Client, schema: string): Promise<unknown> {
  const { rows } = await client.query<{ description: unknown }>(
    `SELECT json_build_object(
       'columns', (SELECT json_agg(json_build_object(
           'table', c.table_name, 'column', c.column_name, 'position', c.ordinal_position,
           'type', c.data_type, 'nullable', c.is_nullable, 'default', c.column_default)
           ORDER BY c.table_name, c.ordinal_position)
         FROM information_schema.columns c
         WHERE c.table_schema = $1 AND c.table_name IN ('outbox', 'outbox_lease')),
       'constraints', (SELECT json_agg(json_build_object(
           'table', t.relname, 'name', k.conname, 'type', k.contype, 'definition', pg_get_constraintdef(k.oid))
           ORDER BY t.relname, k.conname)
         FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE n.nspname = $1 AND t.relname IN ('outbox', 'outbox_lease')),
       'indexes', (SELECT json_agg(json_build_object('table', i.tablename, 'name', i.indexname, 'definition', i.indexdef)
           ORDER BY i.tablename, i.indexname)
         FROM pg_indexes i WHERE i.schemaname = $1 AND i.tablename IN ('outbox', 'outbox_lease')),
       'sequences', (SELECT json_agg(json_build_object('name', s.sequencename, 'type', s.data_type,
           'start', s.start_value, 'increment', s.increment_by) ORDER BY s.sequencename)
         FROM pg_sequences s WHERE s.schemaname = $1 AND s.sequencename LIKE 'outbox%')
     ) AS description`,
    [schema],
  );
  return JSON.parse(JSON.stringify(rows[0]?.description).replaceAll(`${schema}.`, '<schema>.'));
}

describe('the outbox tables', () => {
  it('when every service is migrated from scratch, then its outbox tables are those the old migrations built', async () => {
    const database = await createTestDatabase();
    const client = new pg.Client({ connectionString: database.url });
    try {
      for (const schema of SERVICES) {
        const dir = join(REPO_ROOT, 'services', schema, 'migrations');
        await migrate({ databaseUrl: database.url, schema, dir, logger: testLogger() });
      }
      await client.connect();
      const described: Record<string, unknown> = {};
      for (const schema of SERVICES) described[schema] = await describeOutbox(client, schema);
      const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8'));
      for (const schema of SERVICES)
        expect({ schema, tables: described[schema] }).toEqual({ schema, tables: fixture });
    } finally {
      await client.end().catch(() => undefined);
      await database.drop();
    }
  });
});
