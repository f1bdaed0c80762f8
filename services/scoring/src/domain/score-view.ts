import {
  type ScoreBreakdown,
  type ScoreChanged,
  type ScoreChangeReason,
  scoreChangedEventId,
  scoreChangedSchema,
} from '@taobi/contracts';
import { type Month, type RuleSet, reportedWindow } from '@taobi/rules';

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

export interface ScoreChange {
  memberId: string;
  version: number;
  previousScore: number;
  score: number;
  breakdown: ScoreBreakdown;
  windowFrom: Month;
  expiring: { points: number; evaluationAt: Date };
  causeEventIds: readonly string[];
  /** The refunds among the causes (consumption changes only). */
  refundEventIds?: readonly string[];
}

/** The score-changed record of one change, parsed against its contract before it is enqueued. */
export function scoreChangedRecord(
  change: ScoreChange,
  reason: ScoreChangeReason,
  now: Date,
  rules: RuleSet,
): ScoreChanged {
  return scoreChangedSchema.parse({
    eventId: scoreChangedEventId(change.memberId, change.version),
    schemaVersion: 1,
    memberId: change.memberId,
    occurredAt: now.toISOString(),
    version: change.version,
    previousScore: change.previousScore,
    score: change.score,
    breakdown: change.breakdown,
    reason,
    // The contract bounds the list; the ledger (history endpoint) has every contribution.
    causeEventIds: change.causeEventIds.slice(0, 1000),
    ...(change.refundEventIds ? { refundEventIds: change.refundEventIds.slice(0, 1000) } : {}),
    ruleVersion: rules.version,
    window: reportedWindow(change.windowFrom, now, rules.evaluation),
    expiringAtNextEvaluation: {
      points: change.expiring.points,
      evaluationAt: change.expiring.evaluationAt.toISOString(),
    },
  });
}
