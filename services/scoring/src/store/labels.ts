import type { ConsumptionEvent } from '@taobi/contracts';
import type { Queryable } from './sql';

/**
 * The ledger stores an order's source and its channel and category (together, one label: `pairLabel`),
 * and a refund's source, as 2-byte codes of `scoring.labels` (one row per distinct label text).
 * Sources stay data: a label the ledger has not seen gets a code here, before the statements that
 * write it (which join `scoring.labels` on the text, and read the text back the same way).
 *
 * One statement, inserting only the labels missing: a label another transaction is adding at the
 * same moment makes this one wait for it (ON CONFLICT), and the next statement sees it. A label
 * missing when a row is written (no call before) fails that statement on the NOT NULL code.
 */
export async function ensureLabels(db: Queryable, labels: Iterable<string>): Promise<void> {
  const wanted = [...new Set(labels)].sort();
  if (wanted.length === 0) return;
  await db.query(
    `INSERT INTO scoring.labels (label)
     SELECT label FROM unnest($1::text[]) AS w(label)
     WHERE NOT EXISTS (SELECT 1 FROM scoring.labels l WHERE l.label = w.label)
     ON CONFLICT DO NOTHING`,
    [wanted],
  );
}

/**
 * The labels known to be committed in `scoring.labels` (they are never removed), so that a fold
 * asks Postgres only about new ones. The consumer commits a batch's new labels on their own, before
 * the batch's transaction (`commit`): inside it, a new label's row would stay uncommitted for the
 * whole fold, and every other partition's batch carrying that label would wait on it (ON CONFLICT
 * waits for the inserting transaction), so a fresh ledger's first batches ran one after another. A
 * label committed for a batch whose transaction then fails is only an unused code.
 */
export interface KnownLabels {
  /** Commits (each in its own statement, on `db`: not a transaction's client) the labels not known yet. */
  commit(db: Queryable, labels: Iterable<string>): Promise<void>;
  /** Whether every one of `labels` is committed. */
  has(labels: Iterable<string>): boolean;
}

export function createKnownLabels(): KnownLabels {
  const known = new Set<string>();
  const unknown = (labels: Iterable<string>) => [...new Set(labels)].filter((label) => !known.has(label));
  return {
    async commit(db, labels) {
      const missing = unknown(labels);
      if (missing.length === 0) return;
      await ensureLabels(db, missing);
      for (const label of missing) known.add(label);
    },
    has: (labels) => unknown(labels).length === 0,
  };
}

/**
 * An order's channel and category as one label, 'channel/category': both are kebab-case ids, so
 * '/' never occurs in one and a pair never reads as a single label.
 */
export const pairLabel = (channel: string, category: string): string => `${channel}/${category}`;

/** `pairLabel` in SQL (`channel`, `category`: the SQL of each). */
export const pairLabelSql = (channel: string, category: string): string =>
  `(${channel} || '/' || ${category})`;

/** SQL of the channel and of the category of a pair label (`label`: the SQL of its text). */
export const channelOfSql = (label: string): string => `split_part(${label}, '/', 1)`;
export const categoryOfSql = (label: string): string => `split_part(${label}, '/', 2)`;

/** The labels a batch writes: each event's source, and an order's channel and category. */
export function labelsOf(events: readonly ConsumptionEvent[]): string[] {
  const labels: string[] = [];
  for (const e of events) {
    if (e.kind === 'completed') labels.push(e.source, pairLabel(e.channel, e.category));
    else labels.push(e.source);
  }
  return labels;
}

/**
 * `recorded_after` of a row written now: whole seconds (rounded down) from its `occurred_at` to the
 * transaction's clock, clamped to int4 (68 years either way). `occurred` is the SQL of the row's
 * occurred_at.
 */
export const recordedAfterSql = (occurred: string): string =>
  `greatest(-2147483648, least(2147483647, floor(extract(epoch FROM now() - ${occurred}))))::integer`;

/** The instant a row was recorded, to the second (rounded down), from its columns (`o`: the alias). */
export const recordedAtSql = (o: string): string =>
  `(${o}.occurred_at + ${o}.recorded_after * interval '1 second')`;
