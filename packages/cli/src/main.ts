/**
 * `pnpm taobi <command>`: the load simulation, the demo, and the operator jobs the services expose.
 * Every command talks to the services over HTTP (and the demo also reads Kafka topics), never to
 * their databases.
 */
import { parseArgs } from 'node:util';
import { consumerGroups } from '@taobi/contracts';
import { loadRuleSet } from '@taobi/platform';
import { sourceIds } from '@taobi/rules';
import { evaluate, inspectMember, periodicGrants, rebuild, refillRedis } from './commands/admin';
import { backtest } from './commands/backtest';
import { demo } from './commands/demo';
import { replayFromLog } from './commands/replay';
import { runSimulation } from './commands/simulate';
import { status } from './commands/status';
import { endpointsFrom } from './endpoints';

const USAGE = `usage: pnpm taobi <command> [options]

  status                         every service: ready or not, consumer lag, outbox backlog and
                                 age, DLQ letters (exit 1 when one is down or not ready)
  simulate [options]             post synthetic members' spending through the ingest APIs
      --members N      members to simulate (default 1000)
      --months M       simulated months back from now, at most 12 (default 12)
      --seed S         random seed; the same seed posts the same events (default 1)
      --rate R         cap on events per second (default: as fast as the services take them)
      --duration S     stop posting after S seconds
      --batch-size B   events per POST, at most 500 (default 200)
      --concurrency C  POSTs in flight (default 8)
      --stall-seconds N  give up when no event was answered for N seconds (default 60)
  member <memberId>              score and breakdown, contributions, tier, entitlements, 88VIP
  evaluate [--as-of T]           the monthly evaluation as of T (default now) on scoring and tier
  replay --member <id> | --all   replay members from taobi.consumption.v1 (their partition, from the
                                 earliest offset) with the pure rules, and compare with what scoring,
                                 tier and entitlement store: prints identical or each difference,
                                 exits 0 or 1 (--all: every member, a progress bar and a summary)
  rebuild                        recompute every score from the scoring ledger (rule set in force;
                                 what \`replay\` without options did before)
  refill-redis                   rewrite the scoring read model in Redis from Postgres
  backtest --rules FILE          replay the whole ledger under a candidate rule set (a whole one, or
       [--catalogue FILE]        a part merged over the one in force) beside the one in force, and
       [--as-of T] [--name N]    compare: tiers, moves, 88VIP eligibility, benefit liability; fails
                                 after --stall-seconds without progress
  periodic-grants [--period P]   issue periodic benefits now (e.g. 2026-11-23, 2026-W48, 2026-11)
  demo [--members N] [--seed S]  a simulated year for N members (default 3000), the monthly
       [--stall-seconds N]       evaluation, and a report read back through the APIs and topics;
                                 every wait fails, saying what is stuck, after N seconds (default
                                 60) without progress

Service URLs default to the local stack (http://127.0.0.1:8081..8088, moved by TAOBI_PORT_OFFSET);
override with TAOBI_<SERVICE>_URL (e.g. TAOBI_INGEST_FOOD_URL). Keys default to the development
keys; override with TAOBI_<SOURCE>_KEY, TAOBI_READ_KEY, TAOBI_ADMIN_KEY, TAOBI_CHECKOUT_KEY,
TAOBI_MERCHANT_KEY. The demo reads the topics
and consumer groups under KAFKA_TOPIC_PREFIX (as the services name them); override a group with
TAOBI_SCORING_GROUP, TAOBI_TIER_GROUP, TAOBI_ENTITLEMENT_GROUP. The sources and the evaluation day
are the rule set's: RULE_SET_FILE, as given to the services (default: the shipped rule set).`;

function number(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0)
    throw new Error(`--${name} must be a positive number, got ${value}`);
  return parsed;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // The rule set the services run (RULE_SET_FILE): its sources and its evaluation day.
  const rules = loadRuleSet(process.env.RULE_SET_FILE);
  const endpoints = endpointsFrom(process.env, sourceIds(rules.score));
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
      'stall-seconds': { type: 'string' },
      member: { type: 'string' },
      all: { type: 'boolean' },
      rules: { type: 'string' },
      catalogue: { type: 'string' },
      name: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const stallMs = number(values['stall-seconds'], 60, 'stall-seconds') * 1000;
  if (stallMs < 5000) throw new Error('--stall-seconds must be at least 5');
  if (!command || values.help || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  switch (command) {
    case 'status':
      return status(endpoints);
    case 'simulate': {
      const { result } = await runSimulation(endpoints, rules, {
        members: number(values.members, 1000, 'members'),
        months: number(values.months, 12, 'months'),
        seed: number(values.seed, 1, 'seed'),
        rate: values.rate ? number(values.rate, 0, 'rate') : undefined,
        duration: values.duration ? number(values.duration, 0, 'duration') : undefined,
        batchSize: number(values['batch-size'], 200, 'batch-size'),
        concurrency: number(values.concurrency, 8, 'concurrency'),
        stallMs,
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
    case 'replay': {
      if ((values.member === undefined) === (values.all !== true)) {
        console.error(
          'usage: taobi replay --member <id> | --all (the rebuild from the ledger is now `taobi rebuild`)',
        );
        return 2;
      }
      return replayFromLog(endpoints, {
        member: values.member,
        all: values.all === true,
        brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
        topicPrefix: process.env.KAFKA_TOPIC_PREFIX ?? '',
        stallMs,
      });
    }
    case 'rebuild':
      return rebuild(endpoints);
    case 'refill-redis':
      return refillRedis(endpoints);
    case 'backtest':
      if (!values.rules)
        throw new Error('usage: taobi backtest --rules candidate.json [--catalogue c.json] [--as-of T]');
      return backtest(endpoints, {
        rules: values.rules,
        catalogue: values.catalogue,
        asOf: values['as-of'],
        name: values.name,
        stallMs,
      });
    case 'periodic-grants':
      return periodicGrants(endpoints, values.period);
    case 'demo': {
      const topicPrefix = process.env.KAFKA_TOPIC_PREFIX ?? '';
      return demo(endpoints, {
        members: number(values.members, 3000, 'members'),
        seed: number(values.seed, 2026, 'seed'),
        brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
        topicPrefix,
        groups: consumerGroups(topicPrefix).map((group) => ({
          ...group,
          groupId: process.env[`TAOBI_${group.service.toUpperCase()}_GROUP`] ?? group.groupId,
        })),
        rules,
        stallMs,
      });
    }
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
