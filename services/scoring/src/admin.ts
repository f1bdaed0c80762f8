/**
 * The scoring admin CLI, for SREs (the same jobs as the admin API, without HTTP):
 *
 *   pnpm --filter @taobi/scoring admin rebuild            recompute every score from the ledger
 *   pnpm --filter @taobi/scoring admin refill             refill the Redis read model from Postgres
 *   pnpm --filter @taobi/scoring admin evaluate [asOf]    run the monthly evaluation due at asOf
 *
 * It reads the service's environment (DATABASE_URL, REDIS_URL, ...), prints the report as JSON and
 * exits 0, or 1 on failure. Score-changed rows it writes are published by the running service's
 * outbox relay.
 */
import { join } from 'node:path';
import { createLogger, createPool, createRedis, loadConfig, migrate } from '@taobi/platform';
import { ruleSetFor } from './app';
import { scoringConfigSchema } from './config';
import { createScoringJobs } from './jobs/scoring-jobs';
import { createScoreCache } from './store/score-cache';

async function main(argv: string[]): Promise<unknown> {
  const [command, argument] = argv;
  const config = loadConfig(scoringConfigSchema);
  const logger = createLogger({
    name: 'scoring-admin',
    level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL,
  });
  const pool = createPool({
    connectionString: config.DATABASE_URL,
    logger,
    applicationName: 'taobi-scoring-admin',
  });
  const redis = createRedis({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, logger });
  try {
    await migrate({
      databaseUrl: config.DATABASE_URL,
      schema: 'scoring',
      dir: join(__dirname, '..', 'migrations'),
      logger,
    });
    const jobs = createScoringJobs({
      pool,
      cache: createScoreCache(redis),
      rules: ruleSetFor(config),
      now: () => new Date(),
      chunkSize: config.EVALUATION_CHUNK_SIZE,
      logger,
    });
    switch (command) {
      case 'rebuild':
        return await jobs.rebuild();
      case 'refill':
        return await jobs.refill();
      case 'evaluate': {
        const asOf = argument ? new Date(argument) : new Date();
        if (Number.isNaN(asOf.getTime())) throw new Error(`not an ISO time: ${argument}`);
        return await jobs.evaluate(asOf);
      }
      default:
        throw new Error('usage: admin rebuild | refill | evaluate [asOf]');
    }
  } finally {
    await pool.end();
    redis.disconnect();
  }
}

main(process.argv.slice(2)).then(
  (report) => {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`scoring admin: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
