/**
 * Backtests against the real thing: a ledger built through the ingest API and the scoring
 * consumer, live tiers kept by the tier service, and the backtest compared with them. It must
 * leave every live table, Redis entry and topic as it found them.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consumerGroupId, TIERS, type Tier } from '@taobi/contracts';
import { createRedis, DEVELOPMENT_KEYS } from '@taobi/platform';
import { DEFAULT_RULE_SET, lastEvaluationAt, nextEvaluationAt } from '@taobi/rules';
import pg from 'pg';
import {
  ServiceProcess,
  TestStack,
  testEndpoints,
  testKafka,
  testLogger,
  uniqueId,
  waitFor,
  waitUntilConsumed,
} from '../support';
import { Client, type Order, order, refundBody } from './e2e-kit';

// biome-ignore lint/suspicious/noExplicitAny: tests read the API's JSON answers field by field
type ApiAnswer = any;

/** `count` 4,000 CNY physical orders, three a month from last month back: 101 points each. */
const spending = (memberId: string, count: number): Order[] =>
  Array.from({ length: count }, (_, i) =>
    order(memberId, 'ecommerce', 'physical', 4000, 1 + Math.floor(i / 3)),
  );

describe('backtests over the live ledger (ingest, scoring and tier as processes)', () => {
  let stack: TestStack;
  let client: Client;
  let db: pg.Pool;
  const id = (label: string) => uniqueId(`bt-${label}`);
  // Scores 300 + 101 per order; the last one reaches Platinum this month, then refunds that order.
  const members = {
    gold: { id: id('gold'), orders: 6, tier: 'GOLD' }, // 906
    platinumA: { id: id('plat-a'), orders: 7, tier: 'PLATINUM' }, // 1007
    platinumB: { id: id('plat-b'), orders: 8, tier: 'PLATINUM' }, // 1108
    platinumC: { id: id('plat-c'), orders: 9, tier: 'PLATINUM' }, // 1209
    refunded: { id: id('refund'), orders: 6, tier: 'PLATINUM' }, // 906 + 101 this month, then 906: clawed back
  } as const;

  const tierOf = async (memberId: string) =>
    (await client.read('tier', `/v1/members/${memberId}/tier`)) as {
      tier: Tier;
      score: number;
      downgradePending: boolean;
    };
  async function liveDistribution(): Promise<Record<Tier, number>> {
    const { tiers } = (await client.read('tier', '/v1/tiers/distribution')) as {
      tiers: { tier: Tier; members: number }[];
    };
    return Object.fromEntries(tiers.map((row) => [row.tier, row.members])) as Record<Tier, number>;
  }
  /**
   * Everything is folded, published and consumed, and the tier service's start-up catch-up of the
   * last due evaluation has completed: the live state is at rest.
   */
  async function settled(): Promise<void> {
    const due = lastEvaluationAt(new Date(), DEFAULT_RULE_SET.evaluation.dayOfMonth);
    await waitFor(
      async () => {
        const { rows } = await db.query<{ completed: boolean }>(
          `SELECT bool_and(status = 'completed') AND bool_or(as_of = $1) AS completed FROM tier.evaluations`,
          [due],
        );
        return rows[0]?.completed === true;
      },
      { description: `the tier service to catch up the evaluation due ${due.toISOString()}` },
    );
    const kafka = testKafka();
    await waitUntilConsumed(kafka, consumerGroupId('scoring', stack.topicPrefix), stack.topics.consumption);
    await waitUntilConsumed(kafka, consumerGroupId('tier', stack.topicPrefix), stack.topics.scoreChanged);
    await waitFor(
      async () => {
        const { rows } = await db.query<{ n: number }>(
          `SELECT (SELECT count(*) FROM scoring.outbox WHERE published_at IS NULL)
                + (SELECT count(*) FROM tier.outbox WHERE published_at IS NULL) AS n`,
        );
        return Number(rows[0]?.n) === 0;
      },
      { description: 'the outboxes to be published' },
    );
  }

  async function backtest(body: object): Promise<ApiAnswer> {
    const admin = { authorization: `Bearer ${DEVELOPMENT_KEYS.admin}`, 'content-type': 'application/json' };
    const started = await fetch(`${stack.url('scoring')}/v1/admin/backtests`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify(body),
    });
    expect(started.status).toBe(202);
    const { id: backtestId } = (await started.json()) as { id: string };
    return waitFor(
      async () => {
        const response = await fetch(`${stack.url('scoring')}/v1/admin/backtests/${backtestId}`, {
          headers: admin,
        });
        const result = (await response.json()) as ApiAnswer;
        return result.status === 'running' ? undefined : result;
      },
      { description: `backtest ${backtestId} to end` },
    );
  }

  /**
   * A digest of the live state: every row of every table of scoring and tier (but the backtests'
   * own), every Redis entry of the stack, and the end offset of every partition of every topic.
   */
  async function liveChecksum(): Promise<Record<string, string>> {
    const digest = (value: string) => createHash('sha256').update(value).digest('hex');
    const sums: Record<string, string> = {};
    const { rows: tables } = await db.query<{ name: string }>(
      `SELECT table_schema || '.' || table_name AS name FROM information_schema.tables
       WHERE table_schema IN ('scoring', 'tier') AND table_type = 'BASE TABLE'
         AND (table_schema, table_name) <> ('scoring', 'backtests')
       ORDER BY 1`,
    );
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['scoring.members', 'tier.members']));
    for (const { name } of tables) {
      const { rows } = await db.query<{ rows: string | null; n: number }>(
        `SELECT string_agg(t::text, '|' ORDER BY t::text) AS rows, count(*)::int AS n FROM ${name} t`,
      );
      sums[name] = `${rows[0]?.n}:${digest(rows[0]?.rows ?? '')}`;
    }
    const redis = createRedis({ url: testEndpoints().redisUrl, keyPrefix: '', logger: testLogger() });
    try {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', `${stack.redisPrefix}*`, 'COUNT', 500);
        cursor = next;
        keys.push(...found);
      } while (cursor !== '0');
      expect(keys.length).toBeGreaterThan(0);
      const entries = await Promise.all(
        keys.sort().map(async (key) => `${key}=${(await redis.dumpBuffer(key))?.toString('hex')}`),
      );
      sums.redis = `${keys.length}:${digest(entries.join('|'))}`;
    } finally {
      redis.disconnect();
    }
    const admin = testKafka().admin();
    await admin.connect();
    try {
      for (const topic of Object.values(stack.topics)) {
        const offsets = await admin.fetchTopicOffsets(topic);
        sums[topic] = offsets
          .sort((a, b) => a.partition - b.partition)
          .map((p) => `${p.partition}:${p.high}`)
          .join(',');
      }
    } finally {
      await admin.disconnect();
    }
    return sums;
  }

  let before: Record<string, string>;

  beforeAll(async () => {
    // Redis entries outlive the test: an expiry would change the checksum, not the backtest.
    stack = await TestStack.start({
      services: ['ingest-ecommerce', 'scoring', 'tier'],
      env: { READ_MODEL_TTL_MS: '3600000' },
    });
    client = new Client(stack);
    db = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
    // The refunded member's seventh order is this month's: the refund comes days after the upgrade.
    const lift = order(members.refunded.id, 'ecommerce', 'physical', 4000, 0);
    const orders = [...Object.values(members).flatMap((m) => spending(m.id, m.orders)), lift];
    await client.ingestOrders(orders);
    for (const member of Object.values(members)) {
      await waitFor(async () => (await tierOf(member.id)).tier === member.tier, {
        description: `${member.id} to reach ${member.tier}`,
      });
    }
    // After the upgrade: a full refund of the lifting order takes 101 points back, and, within the
    // clawback window (CLAWBACK_DAYS, 30), the upgrade with them.
    await client.ingest('ecommerce', [refundBody(lift, `${lift.orderId}-r`)]);
    await waitFor(async () => (await tierOf(members.refunded.id)).tier === 'GOLD', {
      description: 'the refund to take the upgrade back',
    });
    await settled();
    before = await liveChecksum();
  }, 180_000);

  afterAll(async () => {
    await db?.end();
    await stack?.stop();
  });

  it('when the rule set in force is backtested, then nobody moves and both sides equal the live tier distribution (a clawback included)', async () => {
    const result = await backtest({ name: 'no-op', ruleSet: {} });
    expect(result.status).toBe('completed');
    expect(result.progress).toEqual({ done: 5, total: 5 });
    expect(result.moves).toEqual({ up: 0, down: 0, byPair: {} });
    const live = await liveDistribution();
    expect(result.baseline.tiers).toEqual(live);
    expect(result.candidate.tiers).toEqual(live);
    expect(live).toMatchObject({ GOLD: 2, PLATINUM: 3 });
    expect(result.candidate.vip88Eligible).toBe(result.baseline.vip88Eligible);
  });

  it('when Platinum is raised from 1000 to 1200, then exactly the members between move down, and 88VIP eligibility falls by them', async () => {
    const result = await backtest({
      name: 'platinum 1200',
      ruleSet: { tiers: { thresholds: { PLATINUM: 1200 } } },
    });
    expect(result.moves).toEqual({ up: 0, down: 2, byPair: { 'PLATINUM->GOLD': 2 } });
    expect(result.samples.map((s: { memberId: string }) => s.memberId).sort()).toEqual(
      [members.platinumA.id, members.platinumB.id].sort(),
    );
    expect(result.baseline.vip88Eligible).toBe(3);
    expect(result.candidate.vip88Eligible).toBe(1);
    expect(result.candidate.tiers).toMatchObject({ GOLD: 4, PLATINUM: 1 });
  });

  it('when an operator runs pnpm taobi backtest, then it prints the comparison as tables', async () => {
    // An overlay, as an operator would write it: only what changes.
    const dir = mkdtempSync(join(tmpdir(), 'taobi-backtest-'));
    const path = join(dir, 'platinum-1200.json');
    writeFileSync(path, JSON.stringify({ tiers: { thresholds: { PLATINUM: 1200 } } }));
    try {
      const cli = ServiceProcess.start('packages/cli/src/main.ts', stack.urlEnv, [
        'backtest',
        '--rules',
        path,
        '--name',
        'platinum 1200',
      ]);
      const { code } = await cli.exited;
      expect({ code, output: cli.output }).toMatchObject({ code: 0 });
      expect(cli.output).toMatch(/\[█+\] 100% {2}5 \/ 5 members/);
      expect(cli.output).toMatch(/^ {3}PLATINUM +3 +1 +-2$/m);
      expect(cli.output).toContain('2. Moves: 2 down, 0 up');
      expect(cli.output).toMatch(/^ {3}PLATINUM->GOLD +2$/m);
      expect(cli.output).toContain('3. 88VIP at the nominal price: 3 -> 1 members (-2)');
      expect(cli.output).toMatch(/^ {3}fliggy-monthly-travel-coupon +\d+\.\d\d +/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when backtests ran, then every live table, Redis entry and topic is as it was', async () => {
    expect(await liveChecksum()).toEqual(before);
  });

  it('when the live evaluation has run ahead of the clock, then the backtest replays up to it and still equals the live tiers', async () => {
    const asOf = nextEvaluationAt(new Date(), DEFAULT_RULE_SET.evaluation.dayOfMonth).toISOString();
    await client.admin('scoring', '/v1/admin/evaluations', { asOf });
    await client.admin('tier', '/v1/admin/evaluations', { asOf });
    const result = await backtest({ name: 'after the evaluation', ruleSet: {} });
    expect(result.baseline.evaluationAt).toBe(new Date(asOf).toISOString());
    expect(result.baseline.tiers).toEqual(await liveDistribution());
    expect(result.baseline.tiers).toMatchObject({ GOLD: 2, PLATINUM: 3 });
    expect(TIERS.reduce((sum, tier) => sum + result.baseline.tiers[tier], 0)).toBe(5);
  });
});
