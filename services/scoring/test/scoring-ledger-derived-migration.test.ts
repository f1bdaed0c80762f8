import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, type Service } from '@taobi/platform';
import { DEFAULT_RULE_SET, type RuleSet } from '@taobi/rules';
import { testLogger, uniqueId } from '@taobi/tests';
import { createStage, READ, type Stage, startScoring } from './harness';

const MIGRATIONS = join(__dirname, '..', 'migrations');
const DERIVED = '1799900000000_scoring-ledger-derived-points';

/** The orders as the schema before 1799900000000 holds them, labels read back. */
const OLD_ORDERS = `SELECT o.order_id, o.member_id, s.label AS source, c.label AS channel, g.label AS category, o.amount,
         o.points, o.qualifies, o.merchant_id, o.occurred_at, o.recorded_after
  FROM scoring.orders o
  JOIN scoring.labels s ON s.code = o.source_code
  JOIN scoring.labels c ON c.code = o.channel_code
  JOIN scoring.labels g ON g.code = o.category_code
  ORDER BY o.order_id`;

/**
 * Orders' points and qualification became derived, channel and category one code, no merchant
 * NULL (1799900000000): a database at the schema before, holding orders as the fold wrote them
 * (one member under the rule set in force, one still under an older one, one without a member
 * row), is migrated up with its data, down, and up again; the history reads the same per-order
 * points throughout, and the way down gives back every column as it was.
 */
describe('scoring storage: the ledger without order points', () => {
  let stage: Stage;
  let service: Service | undefined;
  const before = mkdtempSync(join(tmpdir(), 'scoring-migrations-'));
  const [current, stale, rowless] = [uniqueId('m'), uniqueId('m'), uniqueId('m')];
  const [a1, a2, b1, c1] = [uniqueId('o'), uniqueId('o'), uniqueId('o'), uniqueId('o')];
  // An older rule set the stale member's points are under: physical goods at 20 CNY a point.
  const older: RuleSet = structuredClone(DEFAULT_RULE_SET);
  older.version = uniqueId('2025.9-test');
  const physical = older.score.sources.ecommerce?.categories.physical;
  if (!physical) throw new Error('the shipped rule set has ecommerce / physical');
  physical.fenPerPoint = 2_000;
  let stored: unknown[];

  beforeAll(async () => {
    stage = await createStage();
    for (const file of readdirSync(MIGRATIONS).filter((name) => name < DERIVED)) {
      copyFileSync(join(MIGRATIONS, file), join(before, file));
    }
    await migrate({ databaseUrl: stage.databaseUrl, schema: 'scoring', dir: before, logger: testLogger() });
    await stage.db.query(
      `INSERT INTO scoring.rule_sets (version, effective_from, rule_set, origin, adopted_at)
       VALUES ($1, '2019-01-01Z', $2, 'configured', '2019-01-01Z'), ($3, '2020-01-01Z', $4, 'configured', '2020-01-01Z')`,
      [older.version, JSON.stringify(older), DEFAULT_RULE_SET.version, JSON.stringify(DEFAULT_RULE_SET)],
    );
    await stage.db.query(
      `INSERT INTO scoring.labels (label) VALUES ('ecommerce'), ('tmall'), ('physical'), ('food'), ('eleme'), ('meal')`,
    );
    // As the previous fold wrote them: a1 (400 CNY, 100 refunded: 7 points at 40 CNY a point,
    // qualifying), a2 (a 35 CNY meal, no merchant: 0 points, qualifying), b1 (400 CNY under the older
    // set: 20 points; 10 under the set in force), c1 (a 10 CNY meal: nothing, so no member row).
    await stage.db.query(
      `INSERT INTO scoring.orders (occurred_at, amount, points, recorded_after, source_code, channel_code,
         category_code, qualifies, member_id, order_id, merchant_id)
       SELECT v.occurred_at::timestamptz, v.amount, v.points, 2, s.code, c.code, g.code, v.qualifies, v.member_id,
              v.order_id, v.merchant_id
       FROM (VALUES ('2026-11-10T04:00:00Z', 40000, 7, true, $1, $3, 'shop-1', 'ecommerce', 'tmall', 'physical'),
                    ('2026-11-12T10:00:00Z', 3500, 0, true, $1, $4, '', 'food', 'eleme', 'meal'),
                    ('2026-11-11T10:00:00Z', 40000, 20, true, $2, $5, '', 'ecommerce', 'tmall', 'physical'),
                    ('2026-11-13T10:00:00Z', 1000, 0, false, $6, $7, '', 'food', 'eleme', 'meal'))
         AS v(occurred_at, amount, points, qualifies, member_id, order_id, merchant_id, source, channel, category)
       JOIN scoring.labels s ON s.label = v.source
       JOIN scoring.labels c ON c.label = v.channel
       JOIN scoring.labels g ON g.label = v.category`,
      [current, stale, a1, a2, b1, rowless, c1],
    );
    await stage.db.query(
      `INSERT INTO scoring.refunds (occurred_at, amount, recorded_after, source_code, member_id, refund_id, order_id)
       SELECT '2026-11-11T00:00:00Z', 10000, 2, code, $1, $2, $3 FROM scoring.labels WHERE label = 'ecommerce'`,
      [current, uniqueId('r'), a1],
    );
    await stage.db.query(
      `INSERT INTO scoring.members (member_id, window_from, version, score, base, source_points, rule_version)
       VALUES ($1, '2025-12', 1, 309, 300, '{"ecommerce": 8, "food": 1}', $2),
              ($3, '2025-12', 1, 321, 300, '{"ecommerce": 21}', $4)`,
      [current, DEFAULT_RULE_SET.version, stale, older.version],
    );
    stored = (await stage.db.query(OLD_ORDERS)).rows;
  });

  afterAll(async () => {
    await service?.stop();
    await stage.close();
    rmSync(before, { recursive: true, force: true });
  });

  /** Each member's orders as the history shows them. */
  async function contributions() {
    const shown: Record<string, unknown>[] = [];
    for (const member of [current, stale, rowless]) {
      const response = await service?.app.inject({
        url: `/v1/members/${member}/score/history`,
        headers: READ,
      });
      expect(response?.statusCode).toBe(200);
      for (const c of response?.json().contributions ?? []) {
        shown.push({
          orderId: c.orderId,
          channel: c.channel,
          category: c.category,
          merchantId: c.merchantId,
          netAmount: c.netAmount,
          points: c.points,
          qualifiesForFrequency: c.qualifiesForFrequency,
        });
      }
    }
    return shown.sort((x, y) => String(x.orderId).localeCompare(String(y.orderId)));
  }

  const expected = [
    {
      orderId: a1,
      channel: 'tmall',
      category: 'physical',
      merchantId: 'shop-1',
      netAmount: 30_000,
      points: 7,
    },
    { orderId: a2, channel: 'eleme', category: 'meal', merchantId: null, netAmount: 3_500, points: 0 },
    // Under its member's rule set (the older one), as the column held: not the 10 of the set in force.
    { orderId: b1, channel: 'tmall', category: 'physical', merchantId: null, netAmount: 40_000, points: 20 },
    { orderId: c1, channel: 'eleme', category: 'meal', merchantId: null, netAmount: 1_000, points: 0 },
  ]
    .map((c) => ({ ...c, qualifiesForFrequency: c.orderId !== c1 }))
    .sort((x, y) => x.orderId.localeCompare(y.orderId));

  it('when a ledger with order points is migrated, then the history shows the same points, derived, and the columns are gone', async () => {
    service = await startScoring(stage);
    expect(await contributions()).toEqual(expected);
    const { rows: columns } = await stage.db.query(
      `SELECT column_name FROM information_schema.columns
       WHERE table_schema = 'scoring' AND table_name = 'orders' ORDER BY ordinal_position`,
    );
    expect(columns.map((c) => c.column_name)).toEqual([
      'occurred_at',
      'amount',
      'recorded_after',
      'source_code',
      'channel_category_code',
      'member_id',
      'order_id',
      'merchant_id',
    ]);
    const { rows: merchants } = await stage.db.query(
      'SELECT order_id, merchant_id FROM scoring.orders WHERE merchant_id IS NOT NULL',
    );
    expect(merchants).toEqual([{ order_id: a1, merchant_id: 'shop-1' }]);
    await service.stop();
    service = undefined;
  });

  it('when the migration is undone, then every order row is back as it was, points included; and it applies again', async () => {
    // The Down section, as the migration runner runs it (one transaction), and its record removed.
    const down = readFileSync(join(MIGRATIONS, `${DERIVED}.sql`), 'utf8').split('-- Down Migration')[1];
    await stage.db.query(`BEGIN; ${down}; DELETE FROM scoring.migrations WHERE name = '${DERIVED}'; COMMIT`);
    expect((await stage.db.query(OLD_ORDERS)).rows).toEqual(stored);
    const { rows: staged } = await stage.db.query(
      `SELECT attname FROM pg_attribute WHERE attrelid = 'scoring.order_in'::regclass AND attnum > 0
       AND NOT attisdropped ORDER BY attnum`,
    );
    expect(staged.map((a) => a.attname).slice(-2)).toEqual(['points', 'qualifies']);

    service = await startScoring(stage);
    const { rows: again } = await stage.db.query(
      `SELECT count(*)::int AS n FROM information_schema.columns
       WHERE table_schema = 'scoring' AND table_name = 'orders' AND column_name IN ('points', 'qualifies')`,
    );
    expect(again).toEqual([{ n: 0 }]);
    expect(await contributions()).toEqual(expected);
  });
});
