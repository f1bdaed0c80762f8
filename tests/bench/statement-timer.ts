/**
 * `BENCH_STATEMENTS=1`: counts and times every statement this process sends to Postgres (the
 * service runs in the bench's process), by statement text, so a run says how many round trips a
 * fold batch costs and where Postgres time goes. It wraps `pg.Client.prototype.query`; a COPY (a
 * stream, not a promise) is counted, timed until it ends.
 */
import pg from 'pg';

interface Tally {
  count: number;
  ms: number;
}

export interface Tallies {
  /** By statement text. */
  byText: Map<string, Tally>;
  /** Statements sent inside a transaction, BEGIN and COMMIT included. */
  inTransactions: number;
  transactions: number;
}

export interface StatementTimer {
  /** The tallies since `start`, then stops counting. */
  stop(): Tallies;
}

/** A statement's text cut to its opening, whitespace collapsed: the key it is tallied under. */
function label(query: unknown): string {
  const text =
    typeof query === 'string'
      ? query
      : ((query as { text?: string; cursor?: unknown } | null)?.text ?? 'COPY (stream)');
  return text.replace(/\s+/g, ' ').trim().slice(0, 90);
}

export function startStatementTimer(): StatementTimer {
  const tallies = new Map<string, Tally>();
  const open = new WeakSet<pg.Client>();
  let inTransactions = 0;
  let transactions = 0;
  const original = pg.Client.prototype.query;
  // biome-ignore lint/suspicious/noExplicitAny: pg's query has a dozen overloads; this wraps them all.
  pg.Client.prototype.query = function timed(this: pg.Client, ...args: any[]): any {
    const started = performance.now();
    const key = label(args[0]);
    if (key === 'BEGIN') {
      open.add(this);
      transactions += 1;
    }
    if (open.has(this)) inTransactions += 1;
    if (key === 'COMMIT' || key === 'ROLLBACK') open.delete(this);
    const done = () => {
      const tally = tallies.get(key) ?? { count: 0, ms: 0 };
      tally.count += 1;
      tally.ms += performance.now() - started;
      tallies.set(key, tally);
    };
    // biome-ignore lint/suspicious/noExplicitAny: see above.
    const result = (original as any).apply(this, args);
    if (result && typeof result.then === 'function') result.then(done, done);
    else if (result && typeof result.on === 'function') {
      result.on('finish', done);
      result.on('error', done);
    } else done();
    return result;
  } as typeof original;
  return {
    stop() {
      pg.Client.prototype.query = original;
      return { byText: tallies, inTransactions, transactions };
    },
  };
}

/** The tallies as lines: per batch count and ms, most time first. */
export function statementReport(tallies: Tallies, batches: number): string[] {
  const rows = [...tallies.byText.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((sum, [, t]) => sum + t.count, 0);
  const totalMs = rows.reduce((sum, [, t]) => sum + t.ms, 0);
  return [
    `statements: ${total} (${(total / Math.max(batches, 1)).toFixed(1)} per fold batch), ${Math.round(totalMs)} ms summed; ${tallies.transactions} transactions, ${(tallies.inTransactions / Math.max(tallies.transactions, 1)).toFixed(1)} statements each (BEGIN and COMMIT included)`,
    ...rows.map(
      ([key, t]) =>
        `  ${String(t.count).padStart(7)} ${(t.count / Math.max(batches, 1)).toFixed(2).padStart(6)}/batch ${String(Math.round(t.ms)).padStart(7)} ms  ${key}`,
    ),
  ];
}
