import type { ScoreBreakdown } from '@taobi/contracts';
import {
  enqueueOutbox,
  type Logger,
  type Pool,
  type PoolClient,
  retry,
  withTransaction,
} from '@taobi/platform';
import {
  addPoints,
  emptyBreakdown,
  evaluationDueAt,
  type Month,
  nextEvaluation,
  type RuleSet,
  sameBreakdown,
  scoreOfBreakdown,
  windowStartAfter,
} from '@taobi/rules';
import { type MemberOutlook, scoreChangedRecord } from '../domain/score-view';
import { refoldMembers } from './rebuild';
import {
  breakdownOf,
  MEMBER_COLUMNS,
  type MemberRow,
  type MemberUpdate,
  memberBuckets,
  outlookOf,
  type ScoredBucket,
  updateMembers,
} from './sql';

/** Some members are still locked by a consumer or another run; retried for about a minute. */
class MembersLocked extends Error {
  constructor() {
    super('members stayed locked for a minute; the evaluation will resume');
  }
}

export interface EvaluationSummary {
  evaluationAt: string;
  /** The first month counted after this evaluation. */
  windowFrom: Month;
  /** True when an earlier run had already completed it (this run changed nothing). */
  alreadyCompleted: boolean;
  membersEvaluated: number;
  membersChanged: number;
  pointsExpired: number;
  startedAt: string;
  completedAt: string;
}

export interface EvaluationOptions {
  pool: Pool;
  rules: RuleSet;
  now: () => Date;
  chunkSize: number;
  logger: Logger;
  /**
   * Called with the members of each committed chunk whose row changed without a new version; it
   * handles its own errors (the chunk is committed whatever it does).
   */
  onUnversionedChange?: (memberIds: string[]) => Promise<void>;
}

interface ChunkResult {
  last: string;
  evaluated: number;
  changed: number;
  expired: number;
  unversioned: string[];
}

/**
 * The monthly evaluation due at or before `asOf`: moves every member's window start to the one
 * that evaluation sets, recomputes their score from their month buckets, and writes one
 * score-changed record (reason `monthly-evaluation`) for each member whose score moved.
 *
 * Resumable and safe to run twice, or twice at once: it works in chunks of members, each one
 * transaction that selects only members whose window start is still behind (`FOR UPDATE SKIP
 * LOCKED`) and moves it forward, so a member is evaluated exactly once per evaluation whatever
 * crashes or overlaps. An evaluation older than the newest one changes nothing (windows never move
 * back).
 */
export async function runEvaluation(asOf: Date, options: EvaluationOptions): Promise<EvaluationSummary> {
  const { pool, rules } = options;
  const dueAt = evaluationDueAt(asOf, rules.evaluation);
  const windowFrom = windowStartAfter(dueAt, rules.evaluation);
  const log = options.logger.child({
    component: 'evaluation',
    evaluationAt: dueAt.toISOString(),
    windowFrom,
  });

  const started = await pool.query<{ completed_at: Date | null }>(
    `INSERT INTO scoring.evaluations (evaluation_at, window_from) VALUES ($1, $2)
     ON CONFLICT (evaluation_at) DO UPDATE SET evaluation_at = EXCLUDED.evaluation_at
     RETURNING completed_at`,
    [dueAt, windowFrom],
  );
  const wasCompleted = started.rows[0]?.completed_at != null;
  log.info({ resumed: !wasCompleted }, 'monthly evaluation starting');

  const totals = { evaluated: 0, changed: 0, expired: 0 };
  const add = async (chunk: ChunkResult) => {
    totals.evaluated += chunk.evaluated;
    totals.changed += chunk.changed;
    totals.expired += chunk.expired;
    if (chunk.unversioned.length > 0) await options.onUnversionedChange?.(chunk.unversioned);
  };

  // One pass in member order, then whatever it skipped (locked by a consumer or another run).
  let after = '';
  for (;;) {
    const chunk = await evaluateChunk(options, { dueAt, windowFrom, after });
    if (!chunk) break;
    await add(chunk);
    after = chunk.last;
  }
  const skipped = async () => {
    for (;;) {
      const chunk = await evaluateChunk(options, { dueAt, windowFrom, after: null });
      if (!chunk) break;
      await add(chunk);
    }
    const behind = await pool.query('SELECT 1 FROM scoring.members WHERE window_from < $1 LIMIT 1', [
      windowFrom,
    ]);
    if (behind.rowCount !== 0) throw new MembersLocked();
  };
  await retry(skipped, {
    attempts: 302,
    delayMs: 200,
    factor: 1,
    retryIf: (e) => e instanceof MembersLocked,
  });

  const done = await pool.query<{ started_at: Date; completed_at: Date; window_from: string }>(
    `UPDATE scoring.evaluations SET completed_at = COALESCE(completed_at, $2)
     WHERE evaluation_at = $1 RETURNING started_at, completed_at, window_from`,
    [dueAt, options.now()],
  );
  const row = done.rows[0];
  const summary: EvaluationSummary = {
    evaluationAt: dueAt.toISOString(),
    windowFrom,
    alreadyCompleted: wasCompleted && totals.evaluated === 0,
    membersEvaluated: totals.evaluated,
    membersChanged: totals.changed,
    pointsExpired: totals.expired,
    startedAt: (row?.started_at ?? options.now()).toISOString(),
    completedAt: (row?.completed_at ?? options.now()).toISOString(),
  };
  log.info(summary, 'monthly evaluation finished');
  return summary;
}

async function evaluateChunk(
  options: EvaluationOptions,
  target: { dueAt: Date; windowFrom: Month; after: string | null },
): Promise<ChunkResult | undefined> {
  const { rules } = options;
  return withTransaction(options.pool, async (client) => {
    const { rows } = await client.query<MemberRow>(
      target.after === null
        ? `SELECT ${MEMBER_COLUMNS} FROM scoring.members WHERE window_from < $1
           ORDER BY member_id LIMIT $2 FOR UPDATE SKIP LOCKED`
        : `SELECT ${MEMBER_COLUMNS} FROM scoring.members WHERE member_id > $3 AND window_from < $1
           ORDER BY member_id LIMIT $2 FOR UPDATE SKIP LOCKED`,
      target.after === null
        ? [target.windowFrom, options.chunkSize]
        : [target.windowFrom, options.chunkSize, target.after],
    );
    const last = rows.at(-1);
    if (!last) return undefined;

    const now = options.now();
    const next = nextEvaluation(now, target.dueAt, rules.evaluation);
    // Members whose score is under an older rule set are refolded under this evaluation's first.
    const stale = rows.filter((row) => row.rule_version !== rules.version);
    const refolded = await refoldMembers(
      client,
      stale.map((row) => row.member_id),
      rules,
    );
    const sums = await bucketSums(
      client,
      rows,
      refolded.buckets,
      { windowFrom: target.windowFrom, next },
      rules,
    );

    const updates: (MemberUpdate & { changed: boolean })[] = [];
    const changes: { update: MemberUpdate; previousScore: number }[] = [];
    const unversioned: string[] = [];
    let expired = 0;
    for (const row of rows) {
      const sum = sums.get(row.member_id) ?? {
        kept: emptyBreakdown(rules.score),
        expired: 0,
        outlook: { expiring: { points: 0, evaluationAt: next }, months: [] },
      };
      const before = breakdownOf(row, rules.score);
      const changed = !sameBreakdown(before, sum.kept);
      const update = {
        memberId: row.member_id,
        version: changed ? row.version + 1 : row.version,
        score: scoreOfBreakdown(sum.kept),
        breakdown: sum.kept,
        windowFrom: target.windowFrom,
        outlook: sum.outlook,
        ruleVersion: rules.version,
        changed,
      };
      updates.push(update);
      expired += sum.expired;
      if (changed) changes.push({ update, previousScore: row.score });
      else unversioned.push(row.member_id);
    }
    await updateMembers(client, updates, { now, reason: 'monthly-evaluation' });
    const records = changes.map(({ update, previousScore }) =>
      scoreChangedRecord(update, { previousScore, causeEventIds: [] }, 'monthly-evaluation', now, rules),
    );
    await enqueueOutbox(
      client,
      'scoring',
      records.map((r) => ({ eventId: r.eventId, topic: 'scoreChanged', key: r.memberId, payload: r })),
    );
    await client.query(
      `UPDATE scoring.evaluations SET members_evaluated = members_evaluated + $2,
         members_changed = members_changed + $3, points_expired = points_expired + $4
       WHERE evaluation_at = $1`,
      [target.dueAt, rows.length, changes.length, expired],
    );
    return { last: last.member_id, evaluated: rows.length, changed: changes.length, expired, unversioned };
  });
}

/**
 * Per member: the breakdown kept from `windowFrom` on, the points that leave, and the outlook after
 * (next expiry, points per month). Members in `refolded` come with the buckets `refoldMembers`
 * recomputed; the others' are read from the table.
 */
async function bucketSums(
  client: PoolClient,
  rows: readonly MemberRow[],
  refolded: ReadonlyMap<string, ScoredBucket[]>,
  target: { windowFrom: Month; next: Date },
  rules: RuleSet,
): Promise<Map<string, { kept: ScoreBreakdown; expired: number; outlook: MemberOutlook }>> {
  const windowFromOf = new Map(rows.map((r) => [r.member_id, r.window_from]));
  const stored = await memberBuckets(
    client,
    rows
      .filter((r) => !refolded.has(r.member_id))
      .map((r) => ({ memberId: r.member_id, windowFrom: r.window_from })),
    rules.score,
  );
  const result = new Map<string, { kept: ScoreBreakdown; expired: number; keptBuckets: ScoredBucket[] }>();
  const add = (bucket: ScoredBucket) => {
    const entry = result.get(bucket.memberId) ?? {
      kept: emptyBreakdown(rules.score),
      expired: 0,
      keptBuckets: [],
    };
    if (bucket.month < target.windowFrom) entry.expired += bucket.points;
    else {
      addPoints(entry.kept, bucket.source, bucket.points);
      entry.keptBuckets.push(bucket);
    }
    result.set(bucket.memberId, entry);
  };
  for (const bucket of stored) add(bucket);
  for (const [memberId, buckets] of refolded) {
    for (const bucket of buckets) {
      // Months already out of the member's window before this evaluation do not expire again.
      if (bucket.month >= (windowFromOf.get(memberId) ?? bucket.month)) add(bucket);
    }
  }
  return new Map(
    [...result].map(([memberId, entry]) => [
      memberId,
      {
        kept: entry.kept,
        expired: entry.expired,
        outlook: outlookOf(entry.keptBuckets, target.windowFrom, target.next, rules),
      },
    ]),
  );
}
