import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A value in COPY's text format: `\N` for null, backslash, tab and line breaks escaped. */
function copyText(value: string | number | boolean | Date | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  const text = value instanceof Date ? value.toISOString() : String(value);
  return /[\\\t\n\r]/.test(text) ? text.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c] ?? c) : text;
}

/**
 * Loads rows into a session's staging table with one `COPY .. FROM STDIN` (text format), the
 * cheapest way into Postgres: no SQL to parse per row, no JSON document to take apart (measured on
 * 16,000 ledger rows: about 0.75 of the same rows through `json_to_recordset`). The table is
 * created (if the session has not got it yet) like `template`, `ON COMMIT DELETE ROWS`: its rows live
 * for the caller's transaction, which then moves them with one `INSERT .. SELECT` (and so keeps
 * `ON CONFLICT` and `RETURNING`, which COPY has not).
 */
export async function copyToStaging(
  client: PoolClient,
  staging: { name: string; template: string },
  columns: readonly string[],
  rows: readonly (readonly (string | number | boolean | Date | null | undefined)[])[],
): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(staging.name) || !/^[a-z_][a-z0-9_.]*$/.test(staging.template)) {
    throw new Error(`unsafe staging table: ${staging.name} like ${staging.template}`);
  }
  let body = '';
  for (const row of rows) body += `${row.map(copyText).join('\t')}\n`;
  // The table is created every time, not once per connection (a creation inside a transaction that
  // rolls back is undone), but in the COPY's own round trip: one simple query holds both.
  await pipeline(
    Readable.from([body]),
    client.query(
      copyFrom(
        `CREATE TEMP TABLE IF NOT EXISTS ${staging.name} (LIKE ${staging.template} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
         COPY ${staging.name} (${columns.join(', ')}) FROM STDIN`,
      ),
    ),
  );
}
