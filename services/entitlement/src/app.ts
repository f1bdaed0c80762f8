import { join } from 'node:path';
import { DEFAULT_CATALOGUE, newSeed, parseCatalogue } from '@taobi/benefits';
import { type TierChanged, tierChangedSchema } from '@taobi/contracts';
import {
  type BatchConsumer,
  Counter,
  closeOnAppClose,
  createAccessControl,
  createOutboxService,
  type Logger,
  loadDataFile,
  once,
  type Service,
} from '@taobi/platform';
import { categoryNames, DEFAULT_RULE_SET, parseRuleSet } from '@taobi/rules';
import type { EntitlementConfig } from './config';
import { createTierChangeHandler } from './consumers/tier-changed';
import { registerAdminRoutes } from './http/admin-routes';
import { registerCatalogueRoutes } from './http/catalogue-routes';
import type { RouteContext } from './http/context';
import { registerEntitlementRoutes } from './http/entitlement-routes';
import { registerLotteryRoutes } from './http/lottery-routes';
import { registerOfferRoutes } from './http/offer-routes';
import { registerRedemptionRoutes } from './http/redemption-routes';
import { registerVip88Routes } from './http/vip88-routes';
import { createLottery } from './jobs/lottery';
import { createPeriodicIssuer } from './jobs/periodic-issue';
import { registerPeriodicGauge } from './jobs/periodic-metrics';
import { createVip88TermEnder } from './jobs/vip88-term-end';

export const SCHEMA = 'entitlement';

export interface EntitlementOptions {
  /** The service's clock (tests move it); defaults to the wall clock. */
  now?: () => Date;
  /** The lottery's seed source; defaults to 32 bytes from the CSPRNG. */
  newSeed?: () => string;
}

/**
 * The entitlement service: consumes tier changes into grants and revocations, issues periodic
 * benefits on schedule, serves 88VIP, the welcome-gift lottery, merchant offers and the read APIs,
 * and publishes every change through the outbox to `taobi.entitlement-changed.v1`.
 */
export function buildEntitlementService(
  config: EntitlementConfig,
  logger: Logger,
  options: EntitlementOptions = {},
): Service {
  const access = createAccessControl(config.TAOBI_ENV, config);
  // The catalogue in force: BENEFIT_CATALOGUE_FILE when set (validated here, at boot), else the shipped one.
  const catalogue = loadDataFile(
    'BENEFIT_CATALOGUE_FILE',
    config.BENEFIT_CATALOGUE_FILE,
    parseCatalogue,
    DEFAULT_CATALOGUE,
  );
  // The rule set every service reads (RULE_SET_FILE, else the shipped one): its product categories
  // are what a merchant offer may target.
  const rules = loadDataFile('RULE_SET_FILE', config.RULE_SET_FILE, parseRuleSet, DEFAULT_RULE_SET);
  const now = options.now ?? (() => new Date());
  const base = createOutboxService({
    name: SCHEMA,
    config,
    logger,
    api: {
      title: 'Taobi entitlement',
      description:
        'Benefits from tiers (`taobi.tier-changed.v1`): the catalogue, each member’s grants, 88VIP price and activation, the welcome-gift lottery, merchants’ targeted offers and their redemptions, and the operator jobs. Entitlement publishes `taobi.entitlement-changed.v1` through its outbox.',
    },
    migrations: join(__dirname, '..', 'migrations'),
  });
  const { app, topics, metrics, pool } = base;

  const counters = {
    tierChanges: new Counter({
      name: 'taobi_entitlement_tier_changes_total',
      help: 'Tier-changed records consumed, by outcome (applied, or stale: repeated or out of order)',
      labelNames: ['outcome'] as const,
      registers: [metrics],
    }),
    membersScanned: new Counter({
      name: 'taobi_entitlement_periodic_members_scanned_total',
      help: 'Members the periodic issue has scanned, by cadence (its progress; one page at a time)',
      labelNames: ['cadence'] as const,
      registers: [metrics],
    }),
    lotteryDraws: new Counter({
      name: 'taobi_entitlement_lottery_draws_total',
      help: 'Welcome-gift lottery draws, by the tier drawn at and outcome (won, lost)',
      labelNames: ['tier', 'outcome'] as const,
      registers: [metrics],
    }),
    entitlements: new Counter({
      name: 'taobi_entitlement_changes_total',
      help: 'Entitlement changes committed, by action (granted, revoked, used, expired) and benefit kind',
      labelNames: ['action', 'kind'] as const,
      registers: [metrics],
    }),
  };

  registerPeriodicGauge(metrics, pool, logger);

  let consumer: BatchConsumer | undefined;
  let schedules: { stop: () => Promise<void> }[] = [];
  const wake = base.wakeRelay;

  const issuer = createPeriodicIssuer({
    pool,
    catalogue,
    now,
    logger,
    pageSize: config.PERIODIC_PAGE_SIZE,
    entitlements: counters.entitlements,
    membersScanned: counters.membersScanned,
    onCommitted: wake,
  });

  const termEnder = createVip88TermEnder({
    pool,
    catalogue,
    now,
    logger,
    pageSize: config.PERIODIC_PAGE_SIZE,
    intervalMs: config.VIP88_TERM_END_INTERVAL_MS,
    entitlements: counters.entitlements,
    onCommitted: wake,
  });

  const lottery = createLottery({
    pool,
    catalogue,
    now,
    logger,
    newSeed: options.newSeed ?? newSeed,
    draws: counters.lotteryDraws,
    entitlements: counters.entitlements,
  });

  closeOnAppClose(app, 'consumer', () => consumer?.stop());
  closeOnAppClose(app, 'schedules', () => Promise.all(schedules.map((s) => s.stop())));
  const context: RouteContext = {
    pool,
    catalogue,
    categories: categoryNames(rules.score),
    now,
    access,
    wake,
    lottery,
    issuer,
    termEnder,
    entitlements: counters.entitlements,
  };
  registerCatalogueRoutes(app, context);
  registerEntitlementRoutes(app, context);
  registerVip88Routes(app, context);
  registerLotteryRoutes(app, context);
  registerOfferRoutes(app, context);
  registerRedemptionRoutes(app, context);
  registerAdminRoutes(app, context);

  const handle = createTierChangeHandler({
    pool,
    catalogue,
    now,
    logger,
    counters,
    lottery,
    onCommitted: wake,
  });

  const prepare = once(base.migrate);

  return {
    app,
    prepare,
    async start() {
      await prepare();
      await lottery.ensureAhead(now());
      await base.startRelay();
      consumer = base.consumer<TierChanged>(topics.tierChanged, { schema: tierChangedSchema, handle });
      await consumer.start();
      if (config.PERIODIC_SCHEDULE_ENABLED) {
        schedules = [issuer.schedule(), termEnder.schedule(), lottery.schedule()];
      }
      logger.info(
        {
          catalogueVersion: catalogue.version,
          benefits: catalogue.benefits.length,
          topic: topics.tierChanged,
        },
        'entitlement service started',
      );
    },
    // Closes the app: its onClose hooks close the rest, last opened first.
    async stop() {
      await app.close();
    },
  };
}
