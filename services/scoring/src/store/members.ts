import type { RuleSet } from '@taobi/rules';
import type { StoredScore } from '../domain/score-view';
import type { Queryable } from './sql';
import { breakdownOf, MEMBER_COLUMNS, type MemberRow } from './sql';

export function storedScoreOf(row: MemberRow, rules: RuleSet): StoredScore {
  return {
    memberId: row.member_id,
    version: row.version,
    score: row.score,
    breakdown: breakdownOf(row, rules.score),
    windowFrom: row.window_from,
    ruleVersion: row.rule_version,
    updatedAt: row.updated_at.toISOString(),
    expiringAtNextEvaluation: row.expiring_at
      ? { points: row.expiring_points, evaluationAt: row.expiring_at.toISOString() }
      : null,
  };
}

export async function readMemberScore(
  db: Queryable,
  memberId: string,
  rules: RuleSet,
): Promise<StoredScore | undefined> {
  const { rows } = await db.query<MemberRow>(
    `SELECT ${MEMBER_COLUMNS} FROM scoring.members WHERE member_id = $1`,
    [memberId],
  );
  return rows[0] ? storedScoreOf(rows[0], rules) : undefined;
}

/** One page of members in id order after `after` (keyset pagination for refills and rebuilds). */
export async function memberPage(db: Queryable, after: string, limit: number): Promise<MemberRow[]> {
  const { rows } = await db.query<MemberRow>(
    `SELECT ${MEMBER_COLUMNS} FROM scoring.members WHERE member_id > $1 ORDER BY member_id LIMIT $2`,
    [after, limit],
  );
  return rows;
}
