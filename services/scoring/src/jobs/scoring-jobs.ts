import type { Logger, Pool } from '@taobi/platform';
import { evaluationDueAt, type RuleSet } from '@taobi/rules';
import { type EvaluationSummary, runEvaluation } from '../store/evaluation';
import { memberPage, storedScoreOf } from '../store/members';
import { type RebuildReport, rebuildScores } from '../store/rebuild';
import type { RuleRegistry } from '../store/rule-sets';
import type { ScoreCache } from '../store/score-cache';

export interface RefillReport {
  membersScanned: number;
  /** Entries written (Redis held nothing or an older version for them). */
  written: number;
}

export interface ScoringJobs {
  evaluate(asOf: Date): Promise<EvaluationSummary>;
  rebuild(): Promise<RebuildReport>;
  refill(): Promise<RefillReport>;
}

/** The admin / scheduled jobs, shared by the HTTP admin API, the schedule and the CLI. */
export function createScoringJobs(options: {
  pool: Pool;
  cache: ScoreCache;
  /** The rule-set registry (opened at start). */
  registry: () => RuleRegistry;
  /** The configured rule set: its evaluation calendar is every version's (adoptions keep it). */
  calendar: RuleSet['evaluation'];
  now: () => Date;
  chunkSize: number;
  logger: Logger;
  /** Called after an evaluation or rebuild wrote score-changed rows (e.g. to wake the relay). */
  onOutboxWritten?: () => void;
}): ScoringJobs {
  const { pool, cache, now, chunkSize, logger } = options;
  // Rows an evaluation or rebuild changed without a new version (their window start or forecast
  // moved): their cached entry is dropped, so the next read repairs it from Postgres. When Redis
  // cannot be reached the entries stay until they expire (READ_MODEL_TTL_MS), and the log says so.
  const onUnversionedChange = (memberIds: string[]) =>
    cache.invalidate(memberIds).catch((error: unknown) => {
      logger.warn(
        { err: error, members: memberIds.length },
        'stale Redis entries could not be dropped; they expire within READ_MODEL_TTL_MS',
      );
    });
  return {
    async evaluate(asOf) {
      // The evaluation due at `asOf` runs under the rule set in force at its instant: an adopted
      // one takes effect exactly there.
      const rules = await options.registry().current(pool, evaluationDueAt(asOf, options.calendar));
      const summary = await runEvaluation(asOf, { pool, rules, now, chunkSize, logger, onUnversionedChange });
      if (summary.membersChanged > 0) options.onOutboxWritten?.();
      return summary;
    },
    async rebuild() {
      const rules = await options.registry().current(pool, now());
      const ruleSetOf = (version: string) => options.registry().byVersion(version);
      const report = await rebuildScores({
        pool,
        rules,
        now,
        chunkSize,
        logger,
        onUnversionedChange,
        ruleSetOf,
      });
      if (report.membersChanged > 0) options.onOutboxWritten?.();
      return report;
    },
    async refill() {
      const rules = options.registry().inForce(now()).ruleSet;
      const report: RefillReport = { membersScanned: 0, written: 0 };
      let after = '';
      for (;;) {
        const rows = await memberPage(pool, after, 1000);
        const last = rows.at(-1);
        if (!last) break;
        report.written += await cache.repair(
          rows.map((row) => storedScoreOf(row, rules)),
          'refill',
        );
        report.membersScanned += rows.length;
        after = last.member_id;
      }
      logger.child({ component: 'refill' }).info(report, 'Redis read model refilled');
      return report;
    },
  };
}
