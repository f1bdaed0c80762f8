/**
 * `pnpm taobi <command>`: the load simulation, the demo, and the operator jobs the services expose.
 * Every command talks to the services over HTTP (and the demo also reads Kafka topics), never to
 * their databases.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_RULE_SET } from '@taobi/rules';
import { evaluate, inspectMember, periodicGrants, refillRedis, replay } from './commands/admin';
import { demo } from './commands/demo';
import { runSimulation } from './commands/simulate';
import { status } from './commands/status';
import { endpointsFrom } from './endpoints';

const USAGE = `usage: pnpm taobi <command> [options]

  status                         readiness of every service
  simulate [options]             post synthetic members' spending through the ingest APIs
      --members N      members to simulate (default 1000)
      --months M       simulated months back from now, at most 12 (default 12)
      --seed S         random seed; the same seed posts the same events (default 1)
      --rate R         cap on events per second (default: as fast as the services take them)
      --duration S     stop posting after S seconds
      --batch-size B   events per POST, at most 500 (default 200)
      --concurrency C  POSTs in flight (default 8)
  member <memberId>              score and breakdown, contributions, tier, entitlements, 88VIP
  evaluate [--as-of T]           the monthly evaluation as of T (default now) on scoring and tier
  replay                         recompute every score from the scoring ledger (current rule set)
  refill-redis                   rewrite the scoring read model in Redis from Postgres
  periodic-grants [--period P]   issue periodic benefits now (e.g. 2026-11-23, 2026-W48, 2026-11)
  demo [--members N] [--seed S]  a simulated year for N members (default 3000), the monthly
                                 evaluation, and a report read back through the APIs and topics

Service URLs default to the local stack (http://127.0.0.1:8081..8087); override with
TAOBI_<SERVICE>_URL (e.g. TAOBI_INGEST_FOOD_URL). Keys default to the development keys; override
with TAOBI_<SOURCE>_KEY, TAOBI_READ_KEY, TAOBI_ADMIN_KEY, TAOBI_CHECKOUT_KEY, TAOBI_MERCHANT_KEY.`;

function number(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0)
    throw new Error(`--${name} must be a positive number, got ${value}`);
  return parsed;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const endpoints = endpointsFrom();
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      members: { type: 'string' },
      months: { type: 'string' },
      seed: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      'batch-size': { type: 'string' },
      concurrency: { type: 'string' },
      'as-of': { type: 'string' },
      period: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (!command || values.help || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  switch (command) {
    case 'status':
      return status(endpoints);
    case 'simulate': {
      const { result } = await runSimulation(endpoints, {
        members: number(values.members, 1000, 'members'),
        months: number(values.months, 12, 'months'),
        seed: number(values.seed, 1, 'seed'),
        rate: values.rate ? number(values.rate, 0, 'rate') : undefined,
        duration: values.duration ? number(values.duration, 0, 'duration') : undefined,
        batchSize: number(values['batch-size'], 200, 'batch-size'),
        concurrency: number(values.concurrency, 8, 'concurrency'),
      });
      console.log(
        `done: ${result.accepted} accepted, ${result.rejected} rejected, ${result.retries} retries in ${(result.elapsedMs / 1000).toFixed(1)} s`,
      );
      return result.rejected > 0 ? 1 : 0;
    }
    case 'member': {
      const [memberId] = positionals;
      if (!memberId) throw new Error('usage: taobi member <memberId>');
      return inspectMember(endpoints, memberId);
    }
    case 'evaluate':
      return evaluate(endpoints, values['as-of']);
    case 'replay':
      return replay(endpoints);
    case 'refill-redis':
      return refillRedis(endpoints);
    case 'periodic-grants':
      return periodicGrants(endpoints, values.period);
    case 'demo':
      return demo(endpoints, {
        members: number(values.members, 3000, 'members'),
        seed: number(values.seed, 2026, 'seed'),
        brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
        topicPrefix: process.env.KAFKA_TOPIC_PREFIX ?? '',
        groups: {
          scoring: process.env.TAOBI_SCORING_GROUP ?? 'taobi-scoring',
          tier: process.env.TAOBI_TIER_GROUP ?? 'taobi-tier',
          entitlement: process.env.TAOBI_ENTITLEMENT_GROUP ?? 'taobi-entitlement',
        },
        evaluationDay: DEFAULT_RULE_SET.evaluation.dayOfMonth,
      });
    default:
      console.error(`unknown command: ${command} ${positionals.join(' ')}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`taobi: ${(error as Error).message}`);
    process.exit(1);
  },
);
