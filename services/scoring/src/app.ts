import { join } from 'node:path';
import { DEFAULT_CATALOGUE, parseCatalogue } from '@taobi/benefits';
import type { ScoreChanged } from '@taobi/contracts';
import {
  type BatchConsumer,
  ConfigError,
  closeOnAppClose,
  createOutboxService,
  Errors,
  type Logger,
  loadDataFile,
  loadRuleSet,
  once,
  retry,
  type Schedule,
  type Service,
  scheduleRecurring,
} from '@taobi/platform';
import { evaluationDueAt, nextEvaluationAt, type RuleSet } from '@taobi/rules';
import type { ScoringConfig } from './config';
import { createConsumptionConsumer } from './consumers/consumption';
import { fromScoreChanged } from './domain/score-view';
import { registerAdminRoutes } from './http/admin-routes';
import { registerBacktestRoutes } from './http/backtest-routes';
import { registerRuleRoutes } from './http/rule-routes';
import { registerScoreRoutes } from './http/score-routes';
import { createBacktestJobs } from './jobs/backtests';
import { createScoringJobs } from './jobs/scoring-jobs';
import type { FoldResult } from './store/ledger';
import { openRuleRegistry, type RuleRegistry } from './store/rule-sets';
import { createScoreCache } from './store/score-cache';

export interface ScoringDependencies {
  /** The service's clock (tests move it); the wall clock by default. */
  now?: () => Date;
  /** Runs after each batch transaction commits, before its offsets are committed (tests). */
  afterCommit?: (result: FoldResult) => void;
  /**
   * Another configured rule set than `RULE_SET_FILE`'s, for tests of a rule change and rebuild: it
   * seeds the registry (or is registered in force from now) like the file.
   */
  rules?: RuleSet;
  /** Runs after each page of a backtest is saved (tests hold a backtest mid-way with it). */
  afterBacktestPage?: (id: string, done: number) => Promise<void>;
}

/**
 * The rule set in force: `RULE_SET_FILE`, else the shipped one. The deprecated
 * `EVALUATION_DAY_OF_MONTH` may only repeat the rule set's day: a deployment that set another day
 * is refused (exit 2) rather than silently evaluated on the rule set's, or apart from tier's.
 */
export function ruleSetFor(config: ScoringConfig): RuleSet {
  const rules = loadRuleSet(config.RULE_SET_FILE);
  const day = config.EVALUATION_DAY_OF_MONTH;
  if (day !== undefined && day !== rules.evaluation.dayOfMonth) {
    throw new ConfigError([
      {
        variable: 'EVALUATION_DAY_OF_MONTH',
        message: `deprecated, and ${day} is not the evaluation day of rule set ${rules.version} (${rules.evaluation.dayOfMonth}): set evaluation.dayOfMonth in a rule set file (RULE_SET_FILE) given to every service, and unset this`,
      },
    ]);
  }
  return rules;
}

/**
 * The scoring service: the consumption consumer and its outbox relay, the monthly evaluation
 * schedule, and the read and admin APIs. Builds everything from the config; does not listen.
 */
export function buildScoringService(
  config: ScoringConfig,
  logger: Logger,
  dependencies: ScoringDependencies = {},
): Service {
  const now = dependencies.now ?? (() => new Date());
  const rules = dependencies.rules ?? ruleSetFor(config);
  const base = createOutboxService({
    name: 'scoring',
    config,
    logger,
    api: {
      title: 'Taobi scoring',
      description:
        'Taobi Scores from `taobi.consumption.v1`: each member’s score (now or as of an instant), what it is made of and its versions, the rule-set registry, backtests, and the operator jobs. Scoring publishes `taobi.score-changed.v1` through its outbox.',
    },
    migrations: join(__dirname, '..', 'migrations'),
    poolMax: config.PG_POOL_MAX,
    redis: true,
  });
  const { app, access, topics, metrics, kafka, pool, redis, producer } = base;
  const cache = createScoreCache(redis, config.READ_MODEL_TTL_MS, metrics);
  let consumer: BatchConsumer | undefined;
  let schedule: Schedule | undefined;
  // The rule-set registry, opened at start (after the migrations); `rules` seeds it.
  let registry: RuleRegistry | undefined;
  const openedRegistry = (): RuleRegistry => {
    if (!registry) throw Errors.unavailable('the service is starting');
    return registry;
  };
  const jobs = createScoringJobs({
    pool,
    cache,
    registry: openedRegistry,
    calendar: rules.evaluation,
    now,
    chunkSize: config.EVALUATION_CHUNK_SIZE,
    logger,
    onOutboxWritten: base.wakeRelay,
  });
  registerScoreRoutes(app, { access, pool, cache, registry: openedRegistry, now, logger });
  registerRuleRoutes(app, { access, pool, registry: openedRegistry, now });
  registerAdminRoutes(app, { access, jobs, pool, now });
  const backtests = createBacktestJobs({
    pool,
    logger,
    pageSize: config.BACKTEST_PAGE_SIZE,
    leaseMs: config.BACKTEST_LEASE_MS,
    afterPage: dependencies.afterBacktestPage,
  });
  registerBacktestRoutes(app, {
    access,
    pool,
    jobs: backtests,
    now,
    // The one place a backtest learns the rule set in force: the registry's at its asOf.
    ruleSetInForce: (asOf) => openedRegistry().current(pool, asOf),
    catalogue: loadDataFile(
      'BENEFIT_CATALOGUE_FILE',
      config.BENEFIT_CATALOGUE_FILE,
      parseCatalogue,
      DEFAULT_CATALOGUE,
    ),
    clawbackDays: config.CLAWBACK_DAYS,
  });

  const stopping = new AbortController();
  // Closed in the reverse order: the schedule's retries and the backtests first, then the consumer,
  // the schedule, and what createOutboxService opened (the relay first, the pool and Redis last).
  closeOnAppClose(app, 'schedule', () => schedule?.stop());
  // Hooks run last registered first: the registry closes after the consumer, backtests and catch-up
  // that read it have stopped.
  closeOnAppClose(app, 'rule registry', () => registry?.close());
  // A batch cut short is not committed: the next start (or the group's other member) folds it again.
  closeOnAppClose(app, 'consumer', () => consumer?.stop(), { withinMs: config.SHUTDOWN_TIMEOUT_MS / 3 });
  closeOnAppClose(app, 'backtests', () => backtests.stop());
  closeOnAppClose(app, 'catch-up', () => stopping.abort());
  let commits = 0;
  function afterCommit(result: FoldResult): void {
    if (result.changes.length > 0) base.wakeRelay();
    dependencies.afterCommit?.(result);
    if (config.FAULT_KILL_AFTER_COMMITS > 0 && result.inserted.length > 0) {
      commits += 1;
      if (commits >= config.FAULT_KILL_AFTER_COMMITS) {
        // Written synchronously: pino's buffered line would die with the process.
        process.stderr.write(
          `scoring: fault injection: killing the process before the offset commit (${commits})\n`,
        );
        process.kill(process.pid, 'SIGKILL');
      }
    }
  }

  /** Resumes an evaluation a crash interrupted, and runs the last due one if it never ran. */
  async function catchUp(): Promise<void> {
    const { rows } = await pool.query<{ evaluation_at: Date; completed_at: Date | null }>(
      'SELECT evaluation_at, completed_at FROM scoring.evaluations ORDER BY evaluation_at',
    );
    const due = evaluationDueAt(now(), rules.evaluation);
    const pending = rows.filter((row) => row.completed_at === null).map((row) => row.evaluation_at);
    const latest = rows.at(-1)?.evaluation_at;
    if (!latest || latest.getTime() < due.getTime()) pending.push(due);
    for (const evaluationAt of pending) await jobs.evaluate(evaluationAt);
  }

  // Migrations, then the rule-set registry: reads need both before the app listens.
  const prepare = once(async () => {
    await base.migrate();
    registry = await openRuleRegistry(pool, rules, now(), { logger });
  });

  return {
    app,
    prepare,
    async start() {
      await prepare();
      await producer.get();
      backtests.start();
      await base.startRelay({
        batchSize: config.OUTBOX_BATCH_SIZE,
        afterPublish: async (records) => {
          await cache.write(records.map((record) => fromScoreChanged(record.payload as ScoreChanged)));
        },
      });
      consumer = createConsumptionConsumer({
        kafka,
        groupId: config.KAFKA_GROUP_ID,
        topic: topics.consumption,
        dlq: { producer, topic: topics.consumptionDlq },
        pool,
        rulesAt: (at) => openedRegistry().current(pool, at),
        now,
        logger,
        metrics,
        concurrency: config.CONSUMER_CONCURRENCY,
        maxBytesPerPartition: config.CONSUMER_MAX_BYTES_PER_PARTITION,
        maxBytes: config.CONSUMER_MAX_BYTES,
        sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
        retries: config.KAFKA_CONSUMER_RETRIES,
        readiness: app.readiness,
        maxFutureSkewMs: config.MAX_FUTURE_SKEW_MS,
        afterCommit,
      });
      await consumer.start();
      if (config.EVALUATION_SCHEDULE ?? config.EVALUATION_SCHEDULE_ENABLED) {
        schedule = scheduleRecurring({
          name: 'monthly-evaluation',
          logger,
          now,
          nextRunAt: (after) => nextEvaluationAt(after, rules.evaluation.dayOfMonth),
          run: (dueAt) => jobs.evaluate(dueAt),
        });
        void retry(catchUp, {
          attempts: Number.POSITIVE_INFINITY,
          delayMs: 60_000,
          factor: 1,
          signal: stopping.signal,
          onRetry: (error) =>
            logger.error({ err: error }, 'catching up the monthly evaluation failed; retrying in a minute'),
        }).catch(() => undefined);
      }
    },
    // Closes the app: its onClose hooks (registered above, as clients are opened) close the rest.
    async stop() {
      await app.close();
    },
  };
}
