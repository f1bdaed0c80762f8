import { join } from 'node:path';
import { scoreChangedSchema } from '@taobi/contracts';
import {
  assertNoDevelopmentKeys,
  type BatchConsumer,
  closeOnAppClose,
  createAccessControl,
  createOutboxService,
  type Logger,
  loadDataFile,
  once,
  type Service,
} from '@taobi/platform';
import { assertValidThresholds, DEFAULT_RULE_SET, parseRuleSet, type RuleSet } from '@taobi/rules';
import { TIER_SCHEMA, type TierConfig } from './config';
import { createScoreChangedHandler } from './consumers/score-changed';
import { createEvaluator, type EvaluatorDeps } from './evaluation/evaluator';
import { startEvaluationSchedule } from './evaluation/schedule';
import { registerAdminRoutes } from './http/admin-routes';
import { registerReadRoutes } from './http/read-routes';
import { createTierMetrics } from './metrics';
import { fileRuleSets, scoringRuleSets, type TierRuleSets } from './rule-sets';
import { createTierReadModel } from './store/read-model';

export interface TierServiceOptions {
  /** The clock (schedule, catch-up, read views); tests move it. */
  now?: () => Date;
  /** Another rule set than the configured one (`RULE_SET_FILE`), for tests. */
  ruleSet?: RuleSet;
  /** Another source of rule sets than `RULE_SETS_FROM` says (tests). */
  ruleSets?: TierRuleSets;
  /** Test hook, see EvaluatorDeps.afterPage. */
  afterEvaluationPage?: EvaluatorDeps['afterPage'];
}

export interface TierService extends Service {
  /** Resolves when the start-up catch-up of missed evaluations is done (immediately when disabled). */
  readonly caughtUp: Promise<void>;
  readonly evaluator: ReturnType<typeof createEvaluator>;
}

/**
 * The tier service: consumes `taobi.score-changed.v1`, keeps each member's tier in the `tier`
 * schema (mirrored to Redis), publishes `taobi.tier-changed.v1` through an outbox, runs the monthly
 * evaluation, and serves the read and admin APIs. It does not listen: main.ts or a test does.
 */
export function buildTierService(
  config: TierConfig,
  logger: Logger,
  options: TierServiceOptions = {},
): TierService {
  const access = createAccessControl(config.TAOBI_ENV, config);
  if (config.RULE_SETS_FROM === 'scoring') {
    assertNoDevelopmentKeys(config.TAOBI_ENV, { SCORING_READ_KEY: [config.SCORING_READ_KEY] });
  }
  // The configured rule set (RULE_SET_FILE, else the shipped one): the evaluation calendar, and in
  // `file` mode the only rule set; otherwise scoring's registry decides (docs/adr/0006).
  const ruleSet =
    options.ruleSet ?? loadDataFile('RULE_SET_FILE', config.RULE_SET_FILE, parseRuleSet, DEFAULT_RULE_SET);
  assertValidThresholds(ruleSet.tiers.thresholds);
  const now = options.now ?? (() => new Date());
  const ruleSets =
    options.ruleSets ??
    (config.RULE_SETS_FROM === 'file'
      ? fileRuleSets(ruleSet)
      : scoringRuleSets({
          url: config.SCORING_URL,
          key: config.SCORING_READ_KEY,
          configured: ruleSet,
          refreshMs: config.RULE_SETS_REFRESH_MS,
          logger,
        }));

  const base = createOutboxService({
    name: TIER_SCHEMA,
    config,
    logger,
    api: {
      title: 'Taobi tier',
      description:
        'Tiers from scores: the tier table, each member’s tier (now or as of an instant), its decisions and forecast, and the monthly evaluation. Tier consumes `taobi.score-changed.v1` and publishes `taobi.tier-changed.v1`.',
    },
    migrations: join(__dirname, '..', 'migrations'),
    redis: true,
  });
  const { app, topics, metrics: registry, pool, redis } = base;
  const metrics = createTierMetrics(registry, pool, logger, {
    now,
    dayOfMonth: ruleSet.evaluation.dayOfMonth,
  });
  const readModel = createTierReadModel({
    redis,
    pool,
    logger,
    ttlMs: config.READ_MODEL_TTL_MS,
    metrics: registry,
  });

  let consumer: BatchConsumer | undefined;
  let schedule: ReturnType<typeof startEvaluationSchedule> | undefined;
  const wakeRelay = base.wakeRelay;

  const evaluator = createEvaluator({
    pool,
    ruleSets,
    now,
    readModel,
    metrics,
    logger,
    pageSize: config.EVALUATION_PAGE_SIZE,
    wakeRelay,
    ...(options.afterEvaluationPage ? { afterPage: options.afterEvaluationPage } : {}),
  });

  closeOnAppClose(app, 'read model resync', () => readModel.settled());
  closeOnAppClose(app, 'evaluations', () => evaluator.stop());
  closeOnAppClose(app, 'consumer', () => consumer?.stop());
  closeOnAppClose(app, 'schedule', () => schedule?.stop());
  closeOnAppClose(app, 'rule sets', () => ruleSets.stop());
  registerReadRoutes(app, {
    access,
    calendar: ruleSet.evaluation,
    ruleSets,
    clawbackDays: config.CLAWBACK_DAYS,
    readModel,
    pool,
    metrics,
    now,
  });
  registerAdminRoutes(app, { access, evaluator, pool, ruleSet, now });

  // Migrations, and the copy of scoring's rule-set registry starts filling: reads need both.
  const prepare = once(async () => {
    await base.migrate();
    ruleSets.start();
  });
  let caughtUp: Promise<void> = Promise.resolve();

  return {
    app,
    evaluator,
    get caughtUp() {
      return caughtUp;
    },
    prepare,
    async start() {
      await prepare();
      // Redis is optional for correctness (reads fall back to Postgres), so it never blocks start.
      // A read served before start (the app listens first) may have connected it already.
      if (redis.status === 'wait') {
        redis
          .connect()
          .catch((error: unknown) => logger.warn({ err: error }, 'Redis not reachable at start'));
      }
      await base.startRelay();
      consumer = base.consumer(topics.scoreChanged, {
        schema: scoreChangedSchema,
        handle: createScoreChangedHandler({
          pool,
          ruleSets,
          readModel,
          metrics,
          logger,
          now,
          wakeRelay,
          clawbackDays: config.CLAWBACK_DAYS,
        }),
        partitionsConsumedConcurrently: config.CONSUMER_CONCURRENCY,
      });
      await consumer.start();
      if (config.EVALUATION_SCHEDULE_ENABLED) {
        schedule = startEvaluationSchedule({ evaluator, pool, ruleSet, logger, now });
        caughtUp = schedule.caughtUp;
      }
    },
    // Closes the app (idempotent): its onClose hooks close the rest, last opened first.
    async stop() {
      await app.close();
    },
  };
}
