import type { Tier, TierDecision } from '@taobi/contracts';
import { enqueueOutbox, type Pool, type PoolClient } from '@taobi/platform';
import type { TierChange } from '@taobi/rules';
import { TIER_SCHEMA } from '../config';
import { tierChangedEventId, tierChangedOutbox } from '../domain/tier-changed';

/** A tier change as decided: the change, why (its decision) and the member revision it was made at. */
export interface DecidedChange {
  change: TierChange;
  decision: TierDecision;
  revision: number;
}

/**
 * The one way a tier change is committed, whatever its kind (an upgrade, an evaluation's
 * downgrade, any later kind): its decision is appended to `tier.decisions` and its tier-changed
 * record (carrying the same decision) to the outbox, in the caller's transaction, so neither exists
 * without the other.
 */
export async function commitTierChanges(
  client: PoolClient,
  decided: readonly DecidedChange[],
  now: Date,
): Promise<void> {
  if (decided.length === 0) return;
  // The decisions and their records in one statement (one round trip on tier's path).
  const decisions = {
    sql: `INSERT INTO tier.decisions (member_id, revision, event_id, at, decided_at, from_tier, to_tier, direction,
       reason, score, score_version, threshold, rule_version, evaluation_as_of, window_from, window_to,
       expired_months)
     SELECT member_id, revision, event_id, at, $2, from_tier, to_tier, direction, reason, score, score_version,
       threshold, rule_version, evaluation_as_of, window_from, window_to, expired_months
     FROM json_to_recordset($1::json) AS d(member_id text, revision bigint, event_id text, at timestamptz,
       from_tier text, to_tier text, direction text, reason text, score int, score_version int, threshold int,
       rule_version text, evaluation_as_of timestamptz, window_from text, window_to text, expired_months json)`,
    params: [
      JSON.stringify(
        decided.map(({ change, decision, revision }) => ({
          member_id: change.memberId,
          revision,
          event_id: tierChangedEventId(change),
          at: decision.at,
          from_tier: decision.from,
          to_tier: decision.to,
          direction: decision.direction,
          reason: decision.reason,
          score: decision.score,
          score_version: decision.scoreVersion,
          threshold: decision.threshold,
          rule_version: decision.ruleVersion,
          evaluation_as_of: decision.evaluationAsOf,
          window_from: decision.windowFrom,
          window_to: decision.windowTo,
          expired_months: decision.expiredMonths,
        })),
      ),
      now,
    ],
  };
  await enqueueOutbox(
    client,
    TIER_SCHEMA,
    decided.map(({ change, decision }) => tierChangedOutbox(change, decision)),
    decisions,
  );
}

interface DecisionRow {
  revision: string;
  event_id: string;
  at: Date;
  decided_at: Date;
  from_tier: Tier | null;
  to_tier: Tier;
  direction: TierDecision['direction'];
  reason: TierDecision['reason'];
  score: number;
  score_version: number;
  threshold: number;
  rule_version: string;
  evaluation_as_of: Date | null;
  window_from: string | null;
  window_to: string | null;
  expired_months: TierDecision['expiredMonths'];
}

/** One entry of `GET /v1/members/:id/tier/history`. */
export interface StoredDecision extends TierDecision {
  eventId: string;
  /** The service's clock when the decision was made (processing time). */
  decidedAt: string;
  revision: number;
}

/** The member's decisions newest first, before `beforeRevision` (exclusive) when given. */
export async function listDecisions(
  pool: Pool,
  memberId: string,
  page: { beforeRevision: number | null; limit: number },
): Promise<StoredDecision[]> {
  const { rows } = await pool.query<DecisionRow>(
    `SELECT * FROM tier.decisions WHERE member_id = $1 AND ($2::bigint IS NULL OR revision < $2::bigint)
     ORDER BY revision DESC LIMIT $3`,
    [memberId, page.beforeRevision, page.limit],
  );
  return rows.map((row) => ({
    at: row.at.toISOString(),
    from: row.from_tier,
    to: row.to_tier,
    direction: row.direction,
    reason: row.reason,
    score: row.score,
    scoreVersion: row.score_version,
    threshold: row.threshold,
    ruleVersion: row.rule_version,
    evaluationAsOf: row.evaluation_as_of?.toISOString() ?? null,
    windowFrom: row.window_from,
    windowTo: row.window_to,
    expiredMonths: row.expired_months,
    eventId: row.event_id,
    decidedAt: row.decided_at.toISOString(),
    revision: Number(row.revision),
  }));
}
