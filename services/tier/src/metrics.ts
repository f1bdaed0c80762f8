import { Counter, Gauge, Histogram, type Logger, type Pool, type Registry } from '@taobi/platform';
import type { TierChange } from '@taobi/rules';
import { tierChangedEventId } from './domain/tier-changed';
import { countPendingDowngrades } from './store/members';

export interface TierMetrics {
  changes: Counter<'from' | 'to' | 'direction'>;
  clawbacks: Counter<'from' | 'to'>;
  scoreChanges: Counter<'outcome'>;
  evaluationDuration: Histogram<'trigger'>;
  reads: Counter<'source'>;
}

export function createTierMetrics(registry: Registry, pool: Pool, logger: Logger): TierMetrics {
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
