import { Counter, Gauge, Histogram, type Logger, type Pool, type Registry } from '@taobi/platform';
import { lastEvaluationAt, type TierChange } from '@taobi/rules';
import { tierChangedEventId } from './domain/tier-changed';
import { type EvaluationProgress, evaluationProgress } from './store/evaluations';
import { countMembersByTier, countPendingDowngrades } from './store/members';

export interface TierMetrics {
  changes: Counter<'from' | 'to' | 'direction'>;
  clawbacks: Counter<'from' | 'to'>;
  scoreChanges: Counter<'outcome'>;
  evaluationDuration: Histogram<'trigger'>;
  reads: Counter<'source'>;
}

export function createTierMetrics(
  registry: Registry,
  pool: Pool,
  logger: Logger,
  evaluation: { now: () => Date; dayOfMonth: number },
): TierMetrics {
  registerEvaluationGauges(registry, pool, logger, evaluation);
  new Gauge({
    name: 'taobi_tier_members',
    help: 'Members by current tier (the tier distribution), read from Postgres at scrape',
    labelNames: ['tier'],
    registers: [registry],
    async collect() {
      try {
        const counts = await countMembersByTier(pool);
        this.reset();
        for (const { tier, members } of counts) this.labels(tier).set(members);
      } catch (error) {
        logger.warn({ err: error }, 'members by tier not counted');
      }
    },
  });
  new Gauge({
    name: 'taobi_tier_pending_downgrades',
    help: 'Members whose score no longer holds their tier, to be moved down at the next evaluation',
    registers: [registry],
    // Read at scrape time from the system of record, so it is right across instances and restarts.
    async collect() {
      try {
        this.set(await countPendingDowngrades(pool));
      } catch (error) {
        logger.warn({ err: error }, 'pending downgrades not counted');
      }
    },
  });
  return {
    changes: new Counter({
      name: 'taobi_tier_changes_total',
      help: 'Tier changes committed, by previous tier, new tier and direction',
      labelNames: ['from', 'to', 'direction'],
      registers: [registry],
    }),
    clawbacks: new Counter({
      name: 'taobi_tier_refund_clawbacks_total',
      help: 'Upgrades taken back at once because a refund removed the points they stood on, by from and to tier',
      labelNames: ['from', 'to'],
      registers: [registry],
    }),
    scoreChanges: new Counter({
      name: 'taobi_tier_score_changes_total',
      help: 'score-changed records consumed: applied, or stale (a version already applied: late or repeated)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    evaluationDuration: new Histogram({
      name: 'taobi_tier_evaluation_duration_seconds',
      help: 'Duration of monthly evaluation runs, by trigger',
      labelNames: ['trigger'],
      buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
      registers: [registry],
    }),
    reads: new Counter({
      name: 'taobi_tier_member_reads_total',
      help: 'Member tier reads by where the answer came from (redis, postgres, none: never seen)',
      labelNames: ['source'],
      registers: [registry],
    }),
  };
}

/**
 * The monthly evaluation as Postgres records it, read at scrape time (right across instances and
 * restarts, and whichever instance ran it):
 * - `taobi_tier_evaluation_last_success_timestamp_seconds`: when the latest completed one completed;
 * - `taobi_tier_evaluation_last_completed_as_of_timestamp_seconds` and
 *   `taobi_tier_evaluation_due_as_of_timestamp_seconds`: the asOf of the latest completed one, and
 *   of the latest that was due by now (the rule set's day, 00:00 Asia/Shanghai). Completed below
 *   due means an evaluation was missed or runs still (0 when none ever completed);
 * - `taobi_tier_evaluation_in_progress` (0 or 1) and `taobi_tier_evaluation_members_evaluated`: the
 *   latest one started, and how many members it has evaluated so far (its progress).
 */
function registerEvaluationGauges(
  registry: Registry,
  pool: Pool,
  logger: Logger,
  evaluation: { now: () => Date; dayOfMonth: number },
): void {
  const seconds = (date: Date | undefined) => (date ? date.getTime() / 1000 : 0);
  const gauge = (name: string, help: string, value: (progress: EvaluationProgress) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        try {
          this.set(value(await evaluationProgress(pool)));
        } catch (error) {
          logger.warn({ err: error, metric: name }, 'evaluation progress not read');
        }
      },
    });
  gauge(
    'taobi_tier_evaluation_last_success_timestamp_seconds',
    'When the latest completed monthly evaluation completed (0: none has)',
    (p) => seconds(p.completed?.at),
  );
  gauge(
    'taobi_tier_evaluation_last_completed_as_of_timestamp_seconds',
    'The asOf of the latest completed monthly evaluation (0: none has)',
    (p) => seconds(p.completed?.asOf),
  );
  gauge(
    'taobi_tier_evaluation_in_progress',
    'Whether the latest monthly evaluation started is still running (1) or not (0)',
    (p) => (p.latest?.running ? 1 : 0),
  );
  gauge(
    'taobi_tier_evaluation_members_evaluated',
    'Members the latest monthly evaluation started has evaluated so far',
    (p) => p.latest?.membersEvaluated ?? 0,
  );
  new Gauge({
    name: 'taobi_tier_evaluation_due_as_of_timestamp_seconds',
    help: "The asOf of the latest monthly evaluation due by now (the rule set's day)",
    registers: [registry],
    collect() {
      this.set(seconds(lastEvaluationAt(evaluation.now(), evaluation.dayOfMonth)));
    },
  });
}

/** Counts and logs one committed tier change (from a score change or an evaluation). */
export function reportTierChange(
  metrics: TierMetrics,
  log: Logger,
  change: TierChange,
  context: Record<string, unknown>,
): void {
  metrics.changes.labels(change.previousTier ?? 'none', change.tier, change.direction).inc();
  if (change.reason === 'refund-clawback')
    metrics.clawbacks.labels(change.previousTier ?? 'none', change.tier).inc();
  log.info(
    {
      memberId: change.memberId,
      eventId: tierChangedEventId(change),
      from: change.previousTier,
      to: change.tier,
      score: change.score,
      ...context,
    },
    change.reason === 'refund-clawback'
      ? 'tier taken back after a refund'
      : { initial: 'tier assigned', up: 'tier upgraded', down: 'tier downgraded' }[change.direction],
  );
}
