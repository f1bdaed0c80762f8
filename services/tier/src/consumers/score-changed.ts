import type { ScoreChanged } from '@taobi/contracts';
import { type ConsumedRecord, enqueueOutbox, type Logger, type Pool, withTransaction } from '@taobi/platform';
import { applyScoreUpdate, type RuleSet, type TierChange, unseenMember } from '@taobi/rules';
import { TIER_SCHEMA } from '../config';
import { tierChangedOutbox } from '../domain/tier-changed';
import { reportTierChange, type TierMetrics } from '../metrics';
import { evaluationMarks } from '../store/evaluations';
import { lockMembers, type StoredMember, saveMembers } from '../store/members';
import type { TierReadModel } from '../store/read-model';

export interface ScoreChangedHandlerDeps {
  pool: Pool;
  ruleSet: RuleSet;
  readModel: TierReadModel;
  metrics: TierMetrics;
  logger: Logger;
  /** Tells the outbox relay there is something to publish. */
  wakeRelay: () => void;
  /** How long after an upgrade a refund takes it back at once (0: never; see applyScoreUpdate). */
  clawbackDays: number;
}

/**
 * Applies one partition's batch of score changes in one transaction: the members' rows are locked,
 * each record is folded in offset order through the pure policy (so a batch crossing 400 then 700
 * yields two upgrades, in order), and the new states and tier-changed records are written together.
 * Records at or below a member's applied version are late or repeated: counted and ignored.
 */
export function createScoreChangedHandler(deps: ScoreChangedHandlerDeps) {
  const log = deps.logger.child({ component: 'score-changed' });
  const baseScore = deps.ruleSet.score.baseScore;

  return async function handleScoreChanged(records: ConsumedRecord<ScoreChanged>[]): Promise<void> {
    const memberIds = [...new Set(records.map((r) => r.value.memberId))].sort();
    const outcome = await withTransaction(deps.pool, async (client) => {
      const marks = await evaluationMarks(client);
      const members = await lockMembers(client, memberIds);
      const touched = new Set<string>();
      const changes: TierChange[] = [];
      let stale = 0;
      for (const record of records) {
        const value = record.value;
        const current: StoredMember = members.get(value.memberId) ?? {
          // A new member counts as evaluated by the last completed evaluation: it did not exist then.
          state: {
            ...unseenMember(value.memberId, baseScore, value.occurredAt),
            lastEvaluationAsOf: marks.completed,
          },
          revision: 0,
        };
        const result = applyScoreUpdate(
          current.state,
          value,
          deps.ruleSet.tiers,
          marks.started,
          deps.clawbackDays,
        );
        if (!result.applied) {
          stale += 1;
          log.debug(
            {
              memberId: value.memberId,
              eventId: value.eventId,
              version: value.version,
              appliedVersion: current.state.scoreVersion,
              topic: record.topic,
              partition: record.partition,
              offset: record.offset,
            },
            'stale score change ignored',
          );
          continue;
        }
        members.set(value.memberId, { state: result.state, revision: current.revision + 1 });
        touched.add(value.memberId);
        if (result.change) changes.push(result.change);
      }
      const saved = [...touched].map((id) => members.get(id) as StoredMember);
      await saveMembers(client, saved);
      await enqueueOutbox(client, TIER_SCHEMA, changes.map(tierChangedOutbox));
      return { saved, changes, stale };
    });

    deps.metrics.scoreChanges.labels('applied').inc(records.length - outcome.stale);
    if (outcome.stale > 0) deps.metrics.scoreChanges.labels('stale').inc(outcome.stale);
    for (const change of outcome.changes) {
      reportTierChange(deps.metrics, log, change, { scoreVersion: change.scoreVersion });
    }
    if (outcome.changes.length > 0) deps.wakeRelay();
    await deps.readModel.refresh(outcome.saved);
  };
}
