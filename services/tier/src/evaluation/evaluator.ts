import { errorKind, type Logger, type Pool, withTransaction } from '@taobi/platform';
import { evaluateMember, explainTierChange, type RuleSet } from '@taobi/rules';
import { reportTierChange, type TierMetrics } from '../metrics';
import type { TierRuleSets } from '../rule-sets';
import { commitTierChanges, type DecidedChange } from '../store/decisions';
import {
  beginEvaluation,
  completeEvaluation,
  type EvaluationSummary,
  type EvaluationTrigger,
  evaluationMarks,
  lockEvaluation,
  readEvaluation,
  recordPage,
  unfinishedEvaluations,
} from '../store/evaluations';
import { lockMemberPage, type StoredMember, saveMembers } from '../store/members';
import type { TierReadModel } from '../store/read-model';

export interface EvaluatorDeps {
  pool: Pool;
  ruleSets: TierRuleSets;
  /** The service's clock: when pages are recorded (as-of reads answer by it). */
  now: () => Date;
  readModel: TierReadModel;
  metrics: TierMetrics;
  logger: Logger;
  pageSize: number;
  wakeRelay: () => void;
  /** Test hook: runs after each committed page (a throw here simulates a crash mid-evaluation). */
  afterPage?: (page: { asOf: string; cursor: string; members: number }) => Promise<void> | void;
}

export interface Evaluator {
  /**
   * Runs (or resumes, or joins) the evaluation as of `asOf` and resolves with its summary once it is
   * complete. An evaluation already completed is not run again.
   */
  run(asOf: Date, trigger: EvaluationTrigger): Promise<EvaluationSummary & { alreadyCompleted: boolean }>;
  /** Finishes evaluations a stop or crash left running, oldest first. */
  resumeUnfinished(): Promise<void>;
  /** Lets runs in progress finish their page and stop (they resume at the next start). */
  stop(): Promise<void>;
}

export const evaluationOutOfOrder = errorKind(
  'EVALUATION_OUT_OF_ORDER',
  409,
  (asOf: string, latest: string) => ({
    message: `an evaluation as of ${latest} has already started; evaluations run in time order (asOf ${asOf})`,
  }),
);

class EvaluationStopped extends Error {
  constructor() {
    super('the evaluation was stopped; it resumes at the next start');
  }
}

/**
 * The monthly evaluation. Members are evaluated in pages of `pageSize` in member_id order; each page
 * is one transaction that locks the evaluation row (so concurrent runners take turns), evaluates
 * the page's members with the pure policy, saves them, enqueues their tier-changed records and moves
 * the cursor. A crash loses at most the page in hand, and a member already evaluated for `asOf` is
 * left alone, so a resumed or repeated evaluation never moves anyone twice.
 */
export function createEvaluator(deps: EvaluatorDeps): Evaluator {
  const log = deps.logger.child({ component: 'evaluation' });
  const inFlight = new Map<string, Promise<EvaluationSummary & { alreadyCompleted: boolean }>>();
  let stopping = false;

  async function runPage(
    asOf: string,
    rules: RuleSet,
  ): Promise<{ done: boolean; saved: StoredMember[]; decided: DecidedChange[] }> {
    return withTransaction(deps.pool, async (client) => {
      const evaluation = await lockEvaluation(client, asOf);
      if (evaluation.status === 'completed') return { done: true, saved: [], decided: [] };
      const page = await lockMemberPage(client, evaluation.cursor, deps.pageSize);
      const last = page.at(-1);
      const now = deps.now();
      if (!last) {
        await completeEvaluation(client, asOf, now);
        return { done: true, saved: [], decided: [] };
      }
      const saved: StoredMember[] = [];
      const decided: DecidedChange[] = [];
      for (const member of page) {
        const outcome = evaluateMember(member.state, asOf, rules.tiers);
        if (!outcome.evaluated) continue;
        const revision = member.revision + 1;
        saved.push({ state: outcome.state, revision });
        if (outcome.change) {
          decided.push({
            change: outcome.change,
            decision: explainTierChange(outcome.change, member.state, rules),
            revision,
          });
        }
      }
      await saveMembers(client, saved, now);
      await commitTierChanges(client, decided, now);
      await recordPage(client, asOf, {
        cursor: last.state.memberId,
        members: saved.length,
        downgrades: decided.length,
      });
      return { done: false, saved, decided };
    });
  }

  async function execute(asOf: string, trigger: EvaluationTrigger) {
    // The thresholds of the rule set in force at `asOf`, read afresh from scoring's registry: an
    // adopted rule set takes effect exactly at its evaluation, in scoring and here alike. Read
    // before the evaluation is marked begun, so a registry not yet reachable (scoring starting)
    // leaves no evaluation half-started.
    await deps.ruleSets.refresh();
    const rules = deps.ruleSets.at(new Date(asOf));
    const started = await beginEvaluation(deps.pool, asOf, trigger, deps.now());
    if (started.status === 'completed') return { ...started, alreadyCompleted: true };
    const timer = deps.metrics.evaluationDuration.startTimer({ trigger });
    log.info({ asOf, trigger, resumed: started.membersEvaluated > 0 }, 'evaluation running');
    for (;;) {
      if (stopping) throw new EvaluationStopped();
      const page = await runPage(asOf, rules);
      for (const { change } of page.decided) reportTierChange(deps.metrics, log, change, { asOf });
      if (page.decided.length > 0) deps.wakeRelay();
      await deps.readModel.refresh(page.saved);
      if (page.done) break;
      const cursor = page.saved.at(-1)?.state.memberId;
      await deps.afterPage?.({ asOf, cursor: cursor ?? '', members: page.saved.length });
    }
    timer();
    const summary = (await readEvaluation(deps.pool, asOf)) as EvaluationSummary;
    log.info({ ...summary }, 'evaluation completed');
    return { ...summary, alreadyCompleted: false };
  }

  /** Evaluations run in time order: an older one left running is finished before a newer one. */
  async function runInOrder(asOf: string, trigger: EvaluationTrigger) {
    const marks = await evaluationMarks(deps.pool);
    const known = await readEvaluation(deps.pool, asOf);
    if (!known && marks.started && Date.parse(marks.started) > Date.parse(asOf)) {
      throw evaluationOutOfOrder(asOf, marks.started);
    }
    for (const earlier of await unfinishedEvaluations(deps.pool)) {
      if (Date.parse(earlier) < Date.parse(asOf)) await join(earlier, 'catch-up');
    }
    return execute(asOf, trigger);
  }

  function join(asOf: string, trigger: EvaluationTrigger) {
    const existing = inFlight.get(asOf);
    if (existing) return existing;
    const run = runInOrder(asOf, trigger).finally(() => inFlight.delete(asOf));
    inFlight.set(asOf, run);
    return run;
  }

  return {
    run(asOf, trigger) {
      if (stopping) return Promise.reject(new EvaluationStopped());
      return join(asOf.toISOString(), trigger);
    },
    async resumeUnfinished() {
      for (const asOf of await unfinishedEvaluations(deps.pool)) await join(asOf, 'catch-up');
    },
    async stop() {
      stopping = true;
      await Promise.allSettled([...inFlight.values()]);
    },
  };
}
