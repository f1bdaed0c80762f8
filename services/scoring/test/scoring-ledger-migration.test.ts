import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consumptionEventId, type OrderCompleted, type OrderRefunded } from '@taobi/contracts';
import { migrate, type Service, withTransaction } from '@taobi/platform';
import { DEFAULT_RULE_SET, orderContribution } from '@taobi/rules';
import { testLogger, uniqueId } from '@taobi/tests';
import { foldBatch } from '../src/store/ledger';
import { createStage, READ, type Stage, startScoring } from './harness';

const MIGRATIONS = join(__dirname, '..', 'migrations');
const CODES = '1799700000000_scoring-ledger-codes';

/**
 * The ledger's labels became codes and its derivable columns went (1799700000000): a database at
 * the schema before, holding orders and refunds as the fold wrote them, is migrated with its data;
 * the history reads the same contributions, the keys still dedupe, and new refunds re-credit.
 */
describe('scoring storage: the ledger with label codes', () => {
  let stage: Stage;
  let service: Service;
  const before = mkdtempSync(join(tmpdir(), 'scoring-migrations-'));
  const member = uniqueId('m');
  const [o1, o2, r1, held] = [uniqueId('o'), uniqueId('o'), uniqueId('r'), uniqueId('r')];
  const order = (orderId: string, fields: Partial<OrderCompleted>): OrderCompleted => ({
    eventId: consumptionEventId(fields.source ?? 'ecommerce', 'completed', orderId),
    schemaVersion: 1,
    kind: 'completed',
    source: 'ecommerce',
    channel: 'tmall',
    category: 'physical',
    memberId: member,
    orderId,
    amount: 40_000,
    currency: 'CNY',
    occurredAt: '2026-11-10T04:00:00.000Z',
    receivedAt: '2026-11-10T04:00:01.000Z',
    ...fields,
  });
  const first = order(o1, { merchantId: 'shop-1' });

  beforeAll(async () => {
    stage = await createStage();
    for (const file of readdirSync(MIGRATIONS).filter((name) => name < CODES)) {
      copyFileSync(join(MIGRATIONS, file), join(before, file));
    }
    await migrate({ databaseUrl: stage.databaseUrl, schema: 'scoring', dir: before, logger: testLogger() });
    // As the previous fold wrote them: o1 (400 CNY, 100 refunded: 7 points, qualifying), o2 (a 35 CNY
    // meal, no merchant), o1's refund, and a refund whose order never came.
    await stage.db.query(
      `INSERT INTO scoring.orders (amount, occurred_at, received_at, recorded_at, refunded, points, qualifies,
         member_id, source, order_id, channel, category, merchant_id)
       VALUES (40000, '2026-11-10T04:00:00Z', '2026-11-10T04:00:01Z', '2026-11-10T06:00:00.700Z', 10000, 7, true,
               $1, 'ecommerce', $2, 'tmall', 'physical', 'shop-1'),
              (3500, '2026-11-12T10:00:00Z', '2026-11-12T10:00:01Z', '2026-11-12T10:00:02Z', 0, 0, true,
               $1, 'food', $3, 'eleme', 'meal', '')`,
      [member, o1, o2],
    );
    await stage.db.query(
      `INSERT INTO scoring.refunds (source, refund_id, order_id, member_id, amount, occurred_at, received_at, recorded_at)
       VALUES ('ecommerce', $2, $3, $1, 10000, '2026-11-11T00:00:00Z', '2026-11-11T00:00:01Z', '2026-11-11T00:00:02Z'),
              ('travel', $4, 'never-came', $1, 500, '2026-11-13T00:00:00Z', '2026-11-13T00:00:01Z', '2026-11-13T00:00:02Z')`,
      [member, r1, o1, held],
    );
    await stage.db.query(
      `INSERT INTO scoring.members (member_id, window_from, version, score, base, source_points, rule_version)
       VALUES ($1, '2025-12', 1, 305, 300, '{"ecommerce": 4, "food": 1}', $2)`,
      [member, DEFAULT_RULE_SET.version],
    );
    service = await startScoring(stage);
  });

  afterAll(async () => {
    await service?.stop();
    await stage.close();
    rmSync(before, { recursive: true, force: true });
  });

  const history = async () =>
    (await service.app.inject({ url: `/v1/members/${member}/score/history`, headers: READ })).json();

  it('when a ledger written before the codes is migrated, then every row reads back as it was and the history is the same', async () => {
    // (Read at the latest schema: channel and category one code, no order points, since 1799900000000.)
    const { rows: orders } = await stage.db.query(
      `SELECT o.order_id, s.label AS source, p.label AS channel_category, o.amount, o.merchant_id, o.occurred_at,
              o.occurred_at + o.recorded_after * interval '1 second' AS recorded
       FROM scoring.orders o
       JOIN scoring.labels s ON s.code = o.source_code
       JOIN scoring.labels p ON p.code = o.channel_category_code
       WHERE o.member_id = $1 ORDER BY o.occurred_at`,
      [member],
    );
    expect(orders).toEqual([
      {
        order_id: o1,
        source: 'ecommerce',
        channel_category: 'tmall/physical',
        amount: 40_000,
        merchant_id: 'shop-1',
        occurred_at: new Date('2026-11-10T04:00:00Z'),
        // Recorded 2 h and 0.7 s after it occurred: kept to the second, rounded down.
        recorded: new Date('2026-11-10T06:00:00Z'),
      },
      {
        order_id: o2,
        source: 'food',
        channel_category: 'eleme/meal',
        amount: 3_500,
        merchant_id: null,
        occurred_at: new Date('2026-11-12T10:00:00Z'),
        recorded: new Date('2026-11-12T10:00:02Z'),
      },
    ]);
    const { rows: columns } = await stage.db.query(
      `SELECT column_name FROM information_schema.columns
       WHERE table_schema = 'scoring' AND table_name IN ('orders', 'refunds')
         AND column_name IN ('source', 'channel', 'category', 'refunded', 'received_at', 'recorded_at')`,
    );
    expect(columns).toEqual([]);

    const body = await history();
    expect(body.contributions).toEqual([
      expect.objectContaining({
        orderId: o2,
        eventId: consumptionEventId('food', 'completed', o2),
        source: 'food',
        channel: 'eleme',
        category: 'meal',
        merchantId: null,
        amount: 3_500,
        refunded: 0,
        netAmount: 3_500,
        points: 0,
        qualifiesForFrequency: true,
        refunds: [],
      }),
      expect.objectContaining({
        orderId: o1,
        eventId: first.eventId,
        source: 'ecommerce',
        channel: 'tmall',
        category: 'physical',
        merchantId: 'shop-1',
        amount: 40_000,
        // Derived from its refunds now: the same as the column held.
        refunded: 10_000,
        netAmount: 30_000,
        points: 7,
        qualifiesForFrequency: true,
        refunds: [
          {
            refundId: r1,
            eventId: consumptionEventId('ecommerce', 'refunded', r1),
            amount: 10_000,
            occurredAt: '2026-11-11T00:00:00.000Z',
          },
        ],
      }),
    ]);
    expect(body.heldRefunds).toEqual([
      {
        refundId: held,
        eventId: consumptionEventId('travel', 'refunded', held),
        orderId: 'never-came',
        source: 'travel',
        amount: 500,
        occurredAt: '2026-11-13T00:00:00.000Z',
      },
    ]);
  });

  it('when migrated events come again, then their keys still dedupe them, and a new refund re-credits a migrated order', async () => {
    const copy = { ...first, receivedAt: new Date().toISOString() };
    const conflicting = { ...first, amount: 90_000 };
    const second: OrderRefunded = {
      eventId: consumptionEventId('ecommerce', 'refunded', `${r1}-2`),
      schemaVersion: 1,
      kind: 'refunded',
      source: 'ecommerce',
      memberId: member,
      orderId: o1,
      refundId: `${r1}-2`,
      amount: 25_000,
      currency: 'CNY',
      occurredAt: '2026-11-14T00:00:00.000Z',
      receivedAt: '2026-11-14T00:00:01.000Z',
    };
    const result = await withTransaction(stage.db, (client) =>
      foldBatch(client, [copy, conflicting, second], { rules: DEFAULT_RULE_SET, now: new Date() }),
    );
    expect(result.inserted).toEqual([second.eventId]);
    const { receivedAt: _, ...stored } = first;
    expect(result.rejected).toEqual([
      {
        event: conflicting,
        reason: 'conflicting-duplicate',
        errors: [{ field: 'amount', message: 'stored 40000, received 90000' }],
        storedValue: stored,
      },
    ]);
    // 400 CNY less 350 refunded: 50 CNY net, credited as the rules say (fewer points than the 7 before).
    const credited = orderContribution(DEFAULT_RULE_SET.score, {
      source: 'ecommerce',
      category: 'physical',
      amount: 40_000,
      refunded: 35_000,
    });
    expect(credited.points).toBeLessThan(7);
    const o1Now = (await history()).contributions.find((c: { orderId: string }) => c.orderId === o1);
    expect(o1Now).toMatchObject({ refunded: 35_000, netAmount: 5_000, points: credited.points });
    const { rows } = await stage.db.query(
      'SELECT (SELECT count(*) FROM scoring.orders WHERE member_id = $1)::int AS orders, (SELECT count(*) FROM scoring.refunds WHERE member_id = $1)::int AS refunds',
      [member],
    );
    expect(rows).toEqual([{ orders: 2, refunds: 3 }]);
  });
});
