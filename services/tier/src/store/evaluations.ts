import type { Pool, PoolClient } from '@taobi/platform';

export type EvaluationTrigger = 'schedule' | 'catch-up' | 'admin';

export interface EvaluationSummary {
  asOf: string;
  status: 'running' | 'completed';
  trigger: EvaluationTrigger;
  membersEvaluated: number;
  downgrades: number;
  startedAt: string;
  completedAt: string | null;
}

interface EvaluationRow {
  as_of: Date;
  status: 'running' | 'completed';
  trigger: EvaluationTrigger;
  cursor: string | null;
  members_evaluated: number;
  downgrades: number;
  started_at: Date;
  completed_at: Date | null;
}

function summary(row: EvaluationRow): EvaluationSummary {
  return {
    asOf: row.as_of.toISOString(),
    status: row.status,
    trigger: row.trigger,
    membersEvaluated: row.members_evaluated,
    downgrades: row.downgrades,
    startedAt: row.started_at.toISOString(),
    completedAt: row.completed_at?.toISOString() ?? null,
  };
}

/** Records that an evaluation has started (a no-op if it already exists) and returns its row. */
export async function beginEvaluation(
  pool: Pool,
  asOf: string,
  trigger: EvaluationTrigger,
  now: Date,
): Promise<EvaluationSummary> {
  const { rows } = await pool.query<EvaluationRow>(
    `WITH inserted AS (
       INSERT INTO tier.evaluations (as_of, status, trigger, started_at) VALUES ($1, 'running', $2, $3)
       ON CONFLICT (as_of) DO NOTHING RETURNING *)
     SELECT * FROM inserted UNION ALL SELECT * FROM tier.evaluations WHERE as_of = $1`,
    [asOf, trigger, now],
  );
  return summary(rows[0] as EvaluationRow);
}

/** Locks the evaluation's row for one page of work: pages of one evaluation never run at once. */
export async function lockEvaluation(
  client: PoolClient,
  asOf: string,
): Promise<{ status: 'running' | 'completed'; cursor: string | null }> {
  const { rows } = await client.query<EvaluationRow>(
    'SELECT status, cursor FROM tier.evaluations WHERE as_of = $1 FOR UPDATE',
    [asOf],
  );
  const row = rows[0];
  if (!row) throw new Error(`evaluation ${asOf} does not exist`);
  return { status: row.status, cursor: row.cursor };
}

export async function recordPage(
  client: PoolClient,
  asOf: string,
  page: { cursor: string; members: number; downgrades: number },
): Promise<void> {
  await client.query(
    `UPDATE tier.evaluations SET cursor = $2, members_evaluated = members_evaluated + $3,
       downgrades = downgrades + $4 WHERE as_of = $1`,
    [asOf, page.cursor, page.members, page.downgrades],
  );
}

export async function completeEvaluation(client: PoolClient, asOf: string, now: Date): Promise<void> {
  await client.query("UPDATE tier.evaluations SET status = 'completed', completed_at = $2 WHERE as_of = $1", [
    asOf,
    now,
  ]);
}

export async function readEvaluation(pool: Pool, asOf: string): Promise<EvaluationSummary | undefined> {
  const { rows } = await pool.query<EvaluationRow>('SELECT * FROM tier.evaluations WHERE as_of = $1', [asOf]);
  return rows[0] ? summary(rows[0]) : undefined;
}

/** The most recent evaluations, newest first. */
export async function listEvaluations(pool: Pool, limit: number): Promise<EvaluationSummary[]> {
  const { rows } = await pool.query<EvaluationRow>(
    'SELECT * FROM tier.evaluations ORDER BY as_of DESC LIMIT $1',
    [limit],
  );
  return rows.map(summary);
}

/** Evaluations left running by a stop or a crash, oldest first. */
export async function unfinishedEvaluations(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ as_of: Date }>(
    "SELECT as_of FROM tier.evaluations WHERE status = 'running' ORDER BY as_of",
  );
  return rows.map((row) => row.as_of.toISOString());
}

/** The latest evaluation started (running or completed) and the latest completed, or null. */
export interface EvaluationMarks {
  started: string | null;
  completed: string | null;
}

/** The statement of the marks: one row, `started` and `completed` (null when there is none). */
export const EVALUATION_MARKS_SQL = `SELECT max(as_of) AS started,
  max(as_of) FILTER (WHERE status = 'completed') AS completed FROM tier.evaluations`;

export interface EvaluationMarksRow {
  started: Date | null;
  completed: Date | null;
}

export function evaluationMarksOf(row: EvaluationMarksRow | undefined): EvaluationMarks {
  return {
    started: row?.started?.toISOString() ?? null,
    completed: row?.completed?.toISOString() ?? null,
  };
}

export async function evaluationMarks(client: Pool | PoolClient): Promise<EvaluationMarks> {
  const { rows } = await client.query<EvaluationMarksRow>(EVALUATION_MARKS_SQL);
  return evaluationMarksOf(rows[0]);
}

export interface EvaluationProgress {
  /** The latest evaluation started: its asOf, whether it runs still, and members evaluated so far. */
  latest: { asOf: Date; running: boolean; membersEvaluated: number } | null;
  /** The latest evaluation completed: its asOf and when it completed. */
  completed: { asOf: Date; at: Date } | null;
}

/** What the evaluation metrics report, in one statement. */
export async function evaluationProgress(pool: Pool): Promise<EvaluationProgress> {
  const { rows } = await pool.query<{
    as_of: Date | null;
    status: string | null;
    members_evaluated: number | null;
    completed_as_of: Date | null;
    completed_at: Date | null;
  }>(
    `SELECT l.as_of, l.status, l.members_evaluated, c.as_of AS completed_as_of, c.completed_at
     FROM (SELECT 1) AS one
     LEFT JOIN (SELECT * FROM tier.evaluations ORDER BY as_of DESC LIMIT 1) AS l ON true
     LEFT JOIN (SELECT * FROM tier.evaluations WHERE status = 'completed' ORDER BY as_of DESC LIMIT 1) AS c ON true`,
  );
  const row = rows[0];
  return {
    latest: row?.as_of
      ? { asOf: row.as_of, running: row.status === 'running', membersEvaluated: row.members_evaluated ?? 0 }
      : null,
    completed:
      row?.completed_as_of && row.completed_at ? { asOf: row.completed_as_of, at: row.completed_at } : null,
  };
}
