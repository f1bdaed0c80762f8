import type { Category, Source } from '@taobi/contracts';
import type { Pool } from '@taobi/platform';
import type { ReplayEvent } from '@taobi/rules';
import type { BacktestReport, BacktestTally } from '../domain/backtest';
import { categoryOfSql, recordedAtSql } from './labels';

/**
 * SQL of the backtests: their table (`scoring.backtests`, the job's state) and the read-only pages
 * of the ledger they fold. Nothing here writes anything but `scoring.backtests`.
 */
export interface BacktestRow {
  id: string;
  name: string;
  status: 'running' | 'completed' | 'failed';
  as_of: Date;
  horizon: Date;
  clawback_days: number;
  snapshot_at: Date;
  baseline_rules: unknown;
  candidate_rules: unknown;
  baseline_catalogue: unknown;
  candidate_catalogue: unknown;
  cursor: string | null;
  done: number;
  total: number | null;
  tally: BacktestTally;
  report: BacktestReport;
  error: string | null;
  attempts: number;
  created_at: Date;
  completed_at: Date | null;
}

export interface NewBacktest {
  id: string;
  name: string;
  asOf: Date;
  horizon: Date;
  clawbackDays: number;
  baselineRules: unknown;
  candidateRules: unknown;
  baselineCatalogue: unknown;
  candidateCatalogue: unknown;
  tally: BacktestTally;
  report: BacktestReport;
}

/** The lease a working instance holds: `owner` until `leaseMs` from now (the database's clock). */
export interface Lease {
  owner: string;
  leaseMs: number;
}

export async function insertBacktest(pool: Pool, input: NewBacktest, lease: Lease): Promise<BacktestRow> {
  const { rows } = await pool.query<BacktestRow>(
    `INSERT INTO scoring.backtests (id, name, status, as_of, horizon, clawback_days, baseline_rules,
       candidate_rules, baseline_catalogue, candidate_catalogue, tally, report, lease_owner, lease_until)
     VALUES ($1, $2, 'running', $3, $4, $13, $5, $6, $7, $8, $9, $10, $11, now() + $12 * interval '1 millisecond')
     RETURNING *`,
    [
      input.id,
      input.name,
      input.asOf,
      input.horizon,
      JSON.stringify(input.baselineRules),
      JSON.stringify(input.candidateRules),
      JSON.stringify(input.baselineCatalogue),
      JSON.stringify(input.candidateCatalogue),
      JSON.stringify(input.tally),
      JSON.stringify(input.report),
      lease.owner,
      lease.leaseMs,
      input.clawbackDays,
    ],
  );
  return rows[0] as BacktestRow;
}

export async function readBacktest(pool: Pool, id: string): Promise<BacktestRow | undefined> {
  const { rows } = await pool.query<BacktestRow>('SELECT * FROM scoring.backtests WHERE id = $1', [id]);
  return rows[0];
}

export type BacktestSummaryRow = Pick<
  BacktestRow,
  'id' | 'name' | 'status' | 'as_of' | 'done' | 'total' | 'error' | 'created_at' | 'completed_at'
>;

export async function listBacktests(pool: Pool, limit: number): Promise<BacktestSummaryRow[]> {
  const { rows } = await pool.query<BacktestSummaryRow>(
    `SELECT id, name, status, as_of, done, total, error, created_at, completed_at
     FROM scoring.backtests ORDER BY created_at DESC, id LIMIT $1`,
    [limit],
  );
  return rows;
}

/**
 * Takes over one running backtest whose lease has lapsed (its instance crashed or stopped), counting
 * the attempt. Never one this instance holds (a lapse of its own lease means it is still at work on
 * a long page). `SKIP LOCKED`: two instances sweeping at once take different ones.
 */
export async function claimLapsedBacktest(pool: Pool, lease: Lease): Promise<BacktestRow | undefined> {
  const { rows } = await pool.query<BacktestRow>(
    `UPDATE scoring.backtests SET lease_owner = $1, lease_until = now() + $2 * interval '1 millisecond',
       attempts = attempts + 1
     WHERE id = (SELECT id FROM scoring.backtests
                 WHERE status = 'running' AND (lease_until IS NULL OR lease_until < now())
                   AND lease_owner IS DISTINCT FROM $1
                 ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
     RETURNING *`,
    [lease.owner, lease.leaseMs],
  );
  return rows[0];
}

/**
 * Records progress and renews the lease, only while this instance still holds it. False: another
 * instance took the backtest over (this one stalled past its lease) and this one must stop.
 */
export async function saveProgress(
  pool: Pool,
  id: string,
  lease: Lease,
  progress: { cursor: string; done: number; total?: number; tally: BacktestTally; report: BacktestReport },
): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE scoring.backtests SET cursor = $3, done = $4, total = COALESCE($5, total), tally = $6, report = $7,
       lease_until = now() + $8 * interval '1 millisecond'
     WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
    [
      id,
      lease.owner,
      progress.cursor,
      progress.done,
      progress.total ?? null,
      JSON.stringify(progress.tally),
      JSON.stringify(progress.report),
      lease.leaseMs,
    ],
  );
  return rowCount === 1;
}

/** Ends a backtest held by this instance: completed, or failed with its error. */
export async function finishBacktest(
  pool: Pool,
  id: string,
  owner: string,
  outcome: { status: 'completed' | 'failed'; error?: string },
): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE scoring.backtests SET status = $3, error = COALESCE($4, error), completed_at = now(),
       lease_owner = NULL, lease_until = NULL
     WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
    [id, owner, outcome.status, outcome.error ?? null],
  );
  return rowCount === 1;
}

/**
 * Gives the lease up at once, so a sweep resumes the backtest: after an attempt that failed (its
 * error is kept), or at a clean stop (which does not count as an attempt).
 */
export async function releaseBacktest(
  pool: Pool,
  id: string,
  owner: string,
  how: { error?: string; stopped?: boolean },
): Promise<void> {
  await pool.query(
    `UPDATE scoring.backtests SET lease_until = NULL, error = COALESCE($3, error),
       attempts = attempts - CASE WHEN $4 THEN 1 ELSE 0 END
     WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
    [id, owner, how.error ?? null, how.stopped === true],
  );
}

/** The latest monthly evaluation this service had started by `asOf` (it may be ahead of `asOf`). */
export async function latestEvaluationStartedBy(pool: Pool, asOf: Date): Promise<Date | null> {
  const { rows } = await pool.query<{ at: Date | null }>(
    'SELECT max(evaluation_at) AS at FROM scoring.evaluations WHERE started_at <= $1',
    [asOf],
  );
  return rows[0]?.at ?? null;
}

/**
 * Which ledger rows a backtest reads: those that happened by `asOf` and were recorded by `snapshotAt`.
 * The ledger keeps when it recorded a row to the second (rounded down), so rows recorded in the
 * second after `snapshotAt` may count too, and none later: a backtest reads nothing before that
 * second is over (`snapshotSettled`), so every read sees the same rows.
 */
export interface LedgerView {
  asOf: Date;
  snapshotAt: Date;
}

/** Waits (on Postgres' clock, the one that stamps ledger rows) until `snapshotAt` is a second past. */
export async function snapshotSettled(pool: Pool, snapshotAt: Date): Promise<void> {
  await pool.query(
    `SELECT pg_sleep(greatest(0, extract(epoch FROM $1::timestamptz + interval '1 second' - clock_timestamp())))`,
    [snapshotAt],
  );
}

/** Members with at least one order in the view: the population a backtest compares. */
export async function countLedgerMembers(pool: Pool, view: LedgerView): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(DISTINCT member_id)::int AS n FROM scoring.orders o
     WHERE occurred_at <= $1 AND ${recordedAtSql('o')} <= $2`,
    [view.asOf, view.snapshotAt],
  );
  return rows[0]?.n ?? 0;
}

export interface LedgerPage {
  members: { memberId: string; events: ReplayEvent[] }[];
  /** Where the next page starts (after this member id); undefined when the ledger is done. */
  last: string | undefined;
}

/**
 * A ledger row as the page query sends it: [memberId, source, orderId, category (null: a refund), amount, at]
 * (the replay derives an order's month from `at`, as the fold does).
 */
type LedgerRow = [string, Source, string, Category | null, number, number];

/**
 * The next page of the ledger after member `after`, in member id order (keyset paging on the
 * ledger's member indexes): about `size` orders, rounded up to whole members, with their orders
 * and refunds. One statement, so one snapshot of the ledger and one round trip (a read started
 * while the event loop is busy folding the previous page is done when the fold is); Postgres
 * builds the page as one JSON document, far cheaper to read than rows. Only members with an
 * order are paged: refunds alone never score.
 */
export async function readLedgerPage(
  pool: Pool,
  after: string,
  size: number,
  view: LedgerView,
): Promise<LedgerPage> {
  // The page ends with the member holding the `size`-th order after `after` (an index-only scan),
  // or with the last member when fewer are left; none after `after`: the ledger is done.
  const { rows } = await pool.query<{ upper: string | null; page: LedgerRow[] }>(
    `WITH last AS MATERIALIZED (
       SELECT coalesce(
         (SELECT member_id FROM scoring.orders WHERE member_id > $1 ORDER BY member_id OFFSET $2 LIMIT 1),
         (SELECT max(member_id) FROM scoring.orders)) AS upper),
     bound AS MATERIALIZED (SELECT upper FROM last WHERE upper > $1)
     SELECT (SELECT upper FROM bound) AS upper,
       (SELECT coalesce(json_agg(json_build_array(member_id, s.label, order_id, ${categoryOfSql('p.label')}, amount, at)
                                 ORDER BY member_id), '[]')
        FROM (SELECT member_id, source_code, order_id, channel_category_code, amount,
                     (extract(epoch FROM occurred_at) * 1000)::float8 AS at
              FROM scoring.orders o
              WHERE member_id > $1 AND member_id <= (SELECT upper FROM bound)
                AND occurred_at <= $3 AND ${recordedAtSql('o')} <= $4
              UNION ALL
              SELECT member_id, source_code, order_id, NULL, amount, (extract(epoch FROM occurred_at) * 1000)::float8
              FROM scoring.refunds r
              WHERE member_id > $1 AND member_id <= (SELECT upper FROM bound)
                AND occurred_at <= $3 AND ${recordedAtSql('r')} <= $4) ledger
        JOIN scoring.labels s ON s.code = ledger.source_code
        LEFT JOIN scoring.labels p ON p.code = ledger.channel_category_code) AS page`,
    [after, size - 1, view.asOf, view.snapshotAt],
  );
  const page = { rows: rows[0]?.page ?? [], upper: rows[0]?.upper ?? undefined };
  const members: LedgerPage['members'] = [];
  let current: LedgerPage['members'][number] | undefined;
  for (const [memberId, source, orderId, category, amount, at] of page.rows) {
    if (current?.memberId !== memberId) {
      current = { memberId, events: [] };
      members.push(current);
    }
    current.events.push(
      category === null
        ? { kind: 'refunded', source, orderId, amount, at }
        : { kind: 'completed', source, orderId, category, amount, at },
    );
  }
  // A member with refunds and no order in the view has nothing that scores: not in the population.
  return { members: members.filter((m) => m.events.some((e) => e.kind === 'completed')), last: page.upper };
}
