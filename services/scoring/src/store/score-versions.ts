import type { ScoreBreakdown, Source } from '@taobi/contracts';
import { emptyBreakdown, type RuleSet } from '@taobi/rules';
import type { StoredScore } from '../domain/score-view';
import type { Queryable } from './sql';

/**
 * `scoring.score_versions`, read back: every version of a member's score as it was written
 * (docs/adr/0007). As-of reads take the last version written at or before an instant; replay and
 * auditors page through all of them.
 */
interface VersionRow {
  member_id: string;
  version: number;
  score: number;
  base: number;
  source_points: Record<Source, number>;
  window_from: string;
  expiring_points: number;
  expiring_at: Date | null;
  rule_version: string;
  reason: string;
  committed_at: Date;
  log_partition: number | null;
  log_first_offset: string | null;
  log_last_offset: string | null;
}

export interface ScoreVersion extends StoredScore {
  reason: string;
  /** The consumption records that made a `consumption` version: partition and offsets; else null. */
  logPosition: { partition: number; firstOffset: string; lastOffset: string } | null;
}

function fromRow(row: VersionRow, rules: RuleSet): ScoreVersion {
  const breakdown: ScoreBreakdown = { ...emptyBreakdown(rules.score), ...row.source_points, base: row.base };
  return {
    memberId: row.member_id,
    version: row.version,
    score: row.score,
    breakdown,
    windowFrom: row.window_from,
    ruleVersion: row.rule_version,
    updatedAt: row.committed_at.toISOString(),
    expiringAtNextEvaluation: row.expiring_at
      ? { points: row.expiring_points, evaluationAt: row.expiring_at.toISOString() }
      : null,
    reason: row.reason,
    logPosition:
      row.log_partition === null || row.log_first_offset === null || row.log_last_offset === null
        ? null
        : {
            partition: row.log_partition,
            // Kafka offsets are int64: text, as kafkajs gives them (the pool parses bigint as a number).
            firstOffset: String(row.log_first_offset),
            lastOffset: String(row.log_last_offset),
          },
  };
}

/** The member's score as it stood at `asOf` (processing time), or undefined before their first. */
export async function scoreAt(
  db: Queryable,
  memberId: string,
  asOf: Date,
  rulesOf: (version: string) => RuleSet,
): Promise<ScoreVersion | undefined> {
  const { rows } = await db.query<VersionRow>(
    `SELECT * FROM scoring.score_versions WHERE member_id = $1 AND committed_at <= $2
     ORDER BY version DESC LIMIT 1`,
    [memberId, asOf],
  );
  const row = rows[0];
  return row ? fromRow(row, rulesOf(row.rule_version)) : undefined;
}

/** Versions after `after`, oldest first, at most `limit`. */
export async function scoreVersions(
  db: Queryable,
  memberId: string,
  page: { after: number; limit: number },
  rulesOf: (version: string) => RuleSet,
): Promise<ScoreVersion[]> {
  const { rows } = await db.query<VersionRow>(
    `SELECT * FROM scoring.score_versions WHERE member_id = $1 AND version > $2
     ORDER BY version LIMIT $3`,
    [memberId, page.after, page.limit],
  );
  return rows.map((row) => fromRow(row, rulesOf(row.rule_version)));
}
