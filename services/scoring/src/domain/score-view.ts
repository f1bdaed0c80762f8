import {
  isScoreChanged,
  type ScoreBreakdown,
  type ScoreChanged,
  type ScoreChangeReason,
  scoreChangedEventId,
  scoreChangedSchema,
} from '@taobi/contracts';
import { type Month, type MonthPoints, type RuleSet, reportedWindow } from '@taobi/rules';

/** A member's score as stored (Postgres row or the score-changed record Redis holds). */
export interface StoredScore {
  memberId: string;
  version: number;
  score: number;
  breakdown: ScoreBreakdown;
  windowFrom: Month;
  ruleVersion: string;
  updatedAt: string;
  expiringAtNextEvaluation: { points: number; evaluationAt: string } | null;
}

/** `GET /v1/members/:id/score`: the fields in docs/design.md, "APIs". */
export interface ScoreView {
  memberId: string;
  score: number;
  breakdown: ScoreBreakdown;
  window: { from: Month; to: Month };
  ruleVersion: string;
  updatedAt: string | null;
  version: number;
  expiringAtNextEvaluation: { points: number; evaluationAt: string } | null;
}

export function toView(stored: StoredScore, now: Date, rules: RuleSet): ScoreView {
  return {
    memberId: stored.memberId,
    score: stored.score,
    breakdown: stored.breakdown,
    window: reportedWindow(stored.windowFrom, now, rules.evaluation),
    ruleVersion: stored.ruleVersion,
    updatedAt: stored.updatedAt,
    version: stored.version,
    expiringAtNextEvaluation: stored.expiringAtNextEvaluation,
  };
}

export function fromScoreChanged(record: ScoreChanged): StoredScore {
  return {
    memberId: record.memberId,
    version: record.version,
    score: record.score,
    breakdown: record.breakdown,
    windowFrom: record.window.from,
    ruleVersion: record.ruleVersion,
    updatedAt: record.occurredAt,
    expiringAtNextEvaluation: record.expiringAtNextEvaluation,
  };
}

/** What the next evaluations take from a member's score, from their buckets. */
export interface MemberOutlook {
  /** What the next evaluation that takes points takes (`expiringAtNextEvaluation`). */
  expiring: { points: number; evaluationAt: Date };
  /** Points per month still counted (`pointsByMonth`). */
  months: MonthPoints[];
}

/** A member's new score: what the score-changed record and the member's row both say. */
export interface ScoredMember {
  memberId: string;
  version: number;
  score: number;
  breakdown: ScoreBreakdown;
  windowFrom: Month;
  outlook: MemberOutlook;
}

/** Why a member's score changed, besides the new score. */
export interface ScoreCause {
  previousScore: number;
  causeEventIds: readonly string[];
  /** The refunds among the causes (consumption changes only). */
  refundEventIds?: readonly string[];
}

/**
 * Whether a record is a score-changed record as its contract says: the compiled check first (the
 * fold builds one per changed member, and zod took several times longer to say yes), zod for one
 * it refuses, which then throws naming the field.
 */
function checkedScoreChanged(record: ScoreChanged): ScoreChanged {
  return isScoreChanged(record) ? record : scoreChangedSchema.parse(record);
}

/** The score-changed record of one change, checked against its contract before it is enqueued. */
export function scoreChangedRecord(
  member: ScoredMember,
  cause: ScoreCause,
  reason: ScoreChangeReason,
  now: Date,
  rules: RuleSet,
): ScoreChanged {
  const record: ScoreChanged = {
    eventId: scoreChangedEventId(member.memberId, member.version),
    schemaVersion: 1,
    memberId: member.memberId,
    occurredAt: now.toISOString(),
    version: member.version,
    previousScore: cause.previousScore,
    score: member.score,
    breakdown: member.breakdown,
    reason,
    // The contract bounds the list; the ledger (history endpoint) has every contribution.
    causeEventIds: cause.causeEventIds.slice(0, 1000),
    ruleVersion: rules.version,
    window: reportedWindow(member.windowFrom, now, rules.evaluation),
    expiringAtNextEvaluation: {
      points: member.outlook.expiring.points,
      evaluationAt: member.outlook.expiring.evaluationAt.toISOString(),
    },
    pointsByMonth: member.outlook.months,
  };
  if (cause.refundEventIds) record.refundEventIds = cause.refundEventIds.slice(0, 1000);
  return checkedScoreChanged(record);
}
