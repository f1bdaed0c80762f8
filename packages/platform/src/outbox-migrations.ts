import type { MigrationBuilder } from 'node-pg-migrate';

/**
 * The DDL of the transactional outbox (outbox.ts), once for every service that has one. It is
 * applied in steps, in the order the outbox grew; each service runs a step from a migration of its
 * own, under the name that step has always had there, so databases migrated before the DDL moved
 * here stay valid (node-pg-migrate records a migration by its file name without the extension):
 *
 * - `<t>_outbox-lease.js`: the outbox and its relay's lease. The outbox used to be created by each
 *   service's first migration, so a database migrated before has it already (the same table):
 *   it is created only if absent.
 * - `<t>_outbox-traceparent.js`: the trace context each row was written in.
 * - `<t>_outbox-payload-json.js`: the payload as `json` (the text as written), not `jsonb`.
 *
 * tests/integration/outbox-schema.test.ts checks every service's outbox tables against a catalog
 * of those the old migrations built.
 */
const STEPS = {
  lease: {
    up: (t: string) => `
CREATE TABLE IF NOT EXISTS ${t}.outbox (
  id bigserial PRIMARY KEY,
  event_id text NOT NULL UNIQUE,
  topic text NOT NULL,           -- a TopicKey of @taobi/contracts, e.g. 'scoreChanged'
  message_key text,              -- the memberId
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_unpublished ON ${t}.outbox (id) WHERE published_at IS NULL;

-- One relay publishes at a time, without holding a transaction while it waits for Kafka.
CREATE TABLE ${t}.outbox_lease (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),  -- one row: the relay publishing now
  holder text NOT NULL,
  expires_at timestamptz NOT NULL
);`,
    down: (t: string) => `DROP TABLE ${t}.outbox_lease; DROP TABLE ${t}.outbox;`,
  },
  // The W3C trace context a row was written in (the record or request that caused it): the relay
  // sends it as the record's `traceparent` header. NULL for rows written before, or outside any trace.
  traceparent: {
    up: (t: string) => `ALTER TABLE ${t}.outbox ADD COLUMN traceparent text;`,
    down: (t: string) => `ALTER TABLE ${t}.outbox DROP COLUMN traceparent;`,
  },
  // The payload is written once, read back whole and sent as it is: no statement looks inside it.
  // As `jsonb`, Postgres parsed each payload into its binary form on insert and printed it again on
  // every read (about a third of the outbox INSERT's time, measured on 10,000 score-changed rows);
  // `json` keeps the text as written, still checked to be JSON. Rewrites the table once.
  payloadJson: {
    up: (t: string) => `ALTER TABLE ${t}.outbox ALTER COLUMN payload TYPE json USING payload::json;`,
    down: (t: string) => `ALTER TABLE ${t}.outbox ALTER COLUMN payload TYPE jsonb USING payload::jsonb;`,
  },
} as const;

export type OutboxMigrationStep = keyof typeof STEPS;

function safeSchema(schema: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`unsafe schema name: ${schema}`);
  return schema;
}

/** One step of the outbox DDL in `schema`, as a node-pg-migrate migration (`module.exports = ...`). */
export function outboxMigration(
  schema: string,
  step: OutboxMigrationStep,
): { up(pgm: MigrationBuilder): void; down(pgm: MigrationBuilder): void } {
  const t = safeSchema(schema);
  return {
    up: (pgm) => pgm.sql(STEPS[step].up(t)),
    down: (pgm) => pgm.sql(STEPS[step].down(t)),
  };
}

/** The whole outbox DDL in `schema` (every step's `up`), for a database that only needs the tables. */
export function outboxSql(schema: string): string {
  const t = safeSchema(schema);
  return Object.values(STEPS)
    .map((step) => step.up(t))
    .join('\n');
}
