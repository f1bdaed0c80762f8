import type { ScoreChanged } from '@taobi/contracts';
import {
  type ConsumedRecord,
  type Logger,
  type Pool,
  type RejectedRecord,
  withTransaction,
} from '@taobi/platform';
import { applyScoreUpdate, explainTierChange, type RuleSet, unseenMember } from '@taobi/rules';
import { reportTierChange, type TierMetrics } from '../metrics';
import type { TierRuleSets } from '../rule-sets';
import { commitTierChanges, type DecidedChange } from '../store/decisions';
import { lockMembers, type StoredMember, saveMembers } from '../store/members';
import type { TierReadModel } from '../store/read-model';

export interface ScoreChangedHandlerDeps {
  pool: Pool;
  ruleSets: TierRuleSets;
  readModel: TierReadModel;
  metrics: TierMetrics;
  logger: Logger;
  now: () => Date;
  /** Tells the outbox relay there is something to publish. */
  wakeRelay: () => void;
  /** How long after an upgrade a refund takes it back at once (0: never; see applyScoreUpdate). */
  clawbackDays: number;
}

/**
 * Applies one partition's batch of score changes in one transaction: the members' rows are locked,
 * each record is folded in offset order through the pure policy (so a batch crossing 400 then 700
 * yields two upgrades, in order) under the thresholds of the rule set that produced its score (its
 * `ruleVersion`), and the new states and the decided changes (decisions and tier-changed records)
 * are written together. Records at or below a member's applied version are late or repeated:
 * counted and ignored. A record naming a rule set scoring's registry does not have is dead-lettered.
 */
export function createScoreChangedHandler(deps: ScoreChangedHandlerDeps) {
  const log = deps.logger.child({ component: 'score-changed' });

  return async function handleScoreChanged(
    records: ConsumedRecord<ScoreChanged>[],
  ): Promise<{ rejected: RejectedRecord<ScoreChanged>[] }> {
    // The rule sets of the batch, before the transaction (a version tier has not seen is fetched).
    const rules = new Map<string, RuleSet | undefined>();
    for (const version of new Set(records.map((r) => r.value.ruleVersion))) {
      rules.set(version, await deps.ruleSets.byVersion(version));
    }
    const rejected: RejectedRecord<ScoreChanged>[] = [];
    const usable = records.filter((record) => {
      if (rules.get(record.value.ruleVersion)) return true;
      rejected.push({
        record,
        reason: `ruleVersion ${record.value.ruleVersion} is not in scoring's registry`,
      });
      return false;
    });
    const memberIds = [...new Set(usable.map((r) => r.value.memberId))].sort();
    const now = deps.now();
    const outcome = await withTransaction(deps.pool, async (client) => {
      const { marks, members } = await lockMembers(client, memberIds);
      const touched = new Set<string>();
      const decided: DecidedChange[] = [];
      let stale = 0;
      for (const record of usable) {
        const value = record.value;
        const ruleSet = rules.get(value.ruleVersion) as RuleSet;
        const current: StoredMember = members.get(value.memberId) ?? {
          // A new member counts as evaluated by the last completed evaluation: it did not exist then.
          state: {
            ...unseenMember(value.memberId, ruleSet.score.baseScore, value.occurredAt),
            lastEvaluationAsOf: marks.completed,
          },
          revision: 0,
        };
        const result = applyScoreUpdate(
          current.state,
          value,
          ruleSet.tiers,
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
        const revision = current.revision + 1;
        members.set(value.memberId, { state: result.state, revision });
        touched.add(value.memberId);
        if (result.change) {
          decided.push({
            change: result.change,
            decision: explainTierChange(result.change, current.state, ruleSet),
            revision,
          });
        }
      }
      const saved = [...touched].map((id) => members.get(id) as StoredMember);
      await saveMembers(client, saved, now);
      await commitTierChanges(client, decided, now);
      return { saved, decided, stale };
    });

    deps.metrics.scoreChanges.labels('applied').inc(usable.length - outcome.stale);
    if (outcome.stale > 0) deps.metrics.scoreChanges.labels('stale').inc(outcome.stale);
    for (const { change } of outcome.decided) {
      reportTierChange(deps.metrics, log, change, { scoreVersion: change.scoreVersion });
    }
    if (outcome.decided.length > 0) deps.wakeRelay();
    await deps.readModel.refresh(outcome.saved);
    return { rejected };
  };
}
