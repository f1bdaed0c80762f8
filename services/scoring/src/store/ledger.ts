import type { ConsumptionEvent, OrderCompleted, OrderRefunded, ScoreChanged } from '@taobi/contracts';
import { enqueueOutbox, type PoolClient } from '@taobi/platform';
import { type LedgerOrder, planBatch, type RuleSet, shanghaiMonth } from '@taobi/rules';
import { scoreChangedRecord } from '../domain/score-view';
import {
  type BucketRow,
  breakdownOf,
  expiringPointsOf,
  MEMBER_COLUMNS,
  type MemberRow,
  toLedgerBucket,
  updateMembers,
  upsertBuckets,
} from './sql';
import { readWindowState } from './window-state';

export interface FoldResult {
  /** Events the ledger did not hold before this batch. */
  inserted: string[];
  /** Refunds naming another member than their order's: not stored, for the DLQ. */
  rejected: { event: ConsumptionEvent; reason: string }[];
  /** The score-changed records enqueued (one per member whose score moved). */
  changes: ScoreChanged[];
}

const key = (source: string, id: string) => `${source}\u0000${id}`;

/**
 * Folds one batch of distinct, checked consumption events inside the caller's transaction:
 * 1. the ledger takes what is new (unique on eventId and on (source, orderId) / (source, refundId);
 *    anything else is a duplicate and stops here);
 * 2. the members concerned are locked (sorted, so two folds cannot deadlock on them);
 * 3. the orders the new events touch are reloaded with their refund totals, and `planBatch` (pure,
 *    in @taobi/rules) says how their points, month buckets and the members' scores change;
 * 4. the changes are written set-based, and one score-changed record per changed member goes to
 *    the outbox with the next version.
 * About a dozen statements per batch, whatever its size.
 */
export async function foldBatch(
  client: PoolClient,
  events: readonly ConsumptionEvent[],
  context: { rules: RuleSet; now: Date },
): Promise<FoldResult> {
  const { rules, now } = context;
  const orders = events.filter((e): e is OrderCompleted => e.kind === 'completed');
  let refunds = events.filter((e): e is OrderRefunded => e.kind === 'refunded');
  const rejected: FoldResult['rejected'] = [];

  if (refunds.length > 0) {
    // A refund counts only against its own member's order; one naming someone else is refused.
    const owners = new Map(orders.map((o) => [key(o.source, o.orderId), o.memberId]));
    const { rows } = await client.query<{ source: string; order_id: string; member_id: string }>(
      `SELECT o.source, o.order_id, o.member_id
       FROM UNNEST($1::text[], $2::text[]) AS k(source, order_id)
       JOIN scoring.orders o ON o.source = k.source AND o.order_id = k.order_id`,
      [refunds.map((r) => r.source), refunds.map((r) => r.orderId)],
    );
    for (const row of rows) owners.set(key(row.source, row.order_id), row.member_id);
    refunds = refunds.filter((refund) => {
      const owner = owners.get(key(refund.source, refund.orderId));
      if (owner === undefined || owner === refund.memberId) return true;
      rejected.push({ event: refund, reason: 'refund names another member than its order' });
      return false;
    });
  }

  const inserted = new Set<string>();
  if (orders.length > 0) {
    const { rows } = await client.query<{ event_id: string }>(
      `INSERT INTO scoring.orders
         (source, order_id, event_id, member_id, channel, category, merchant_id, amount, month, occurred_at, received_at)
       SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                            $8::bigint[], $9::text[], $10::timestamptz[], $11::timestamptz[])
       ON CONFLICT DO NOTHING
       RETURNING event_id`,
      [
        orders.map((o) => o.source),
        orders.map((o) => o.orderId),
        orders.map((o) => o.eventId),
        orders.map((o) => o.memberId),
        orders.map((o) => o.channel),
        orders.map((o) => o.category),
        orders.map((o) => o.merchantId ?? null),
        orders.map((o) => o.amount),
        orders.map((o) => shanghaiMonth(new Date(o.occurredAt))),
        orders.map((o) => o.occurredAt),
        orders.map((o) => o.receivedAt),
      ],
    );
    for (const row of rows) inserted.add(row.event_id);
  }
  if (refunds.length > 0) {
    const { rows } = await client.query<{ event_id: string }>(
      `INSERT INTO scoring.refunds (source, refund_id, event_id, order_id, member_id, amount, occurred_at, received_at)
       SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[],
                            $7::timestamptz[], $8::timestamptz[])
       ON CONFLICT DO NOTHING
       RETURNING event_id`,
      [
        refunds.map((r) => r.source),
        refunds.map((r) => r.refundId),
        refunds.map((r) => r.eventId),
        refunds.map((r) => r.orderId),
        refunds.map((r) => r.memberId),
        refunds.map((r) => r.amount),
        refunds.map((r) => r.occurredAt),
        refunds.map((r) => r.receivedAt),
      ],
    );
    for (const row of rows) inserted.add(row.event_id);
  }
  const fresh = events.filter((e) => inserted.has(e.eventId));
  if (fresh.length === 0) return { inserted: [], rejected, changes: [] };

  const window = await readWindowState(client, now, rules);
  const memberIds = [...new Set(fresh.map((e) => e.memberId))].sort();
  await client.query(
    `INSERT INTO scoring.members (member_id, window_from, score, base, rule_version)
     SELECT m, $2, $3, $3, $4 FROM UNNEST($1::text[]) AS m
     ON CONFLICT (member_id) DO NOTHING`,
    [memberIds, window.windowFrom, rules.score.baseScore, rules.version],
  );
  const members = await client.query<MemberRow>(
    `SELECT ${MEMBER_COLUMNS} FROM scoring.members WHERE member_id = ANY($1::text[]) ORDER BY member_id FOR UPDATE`,
    [memberIds],
  );

  const affected = new Map<string, { source: string; orderId: string }>();
  for (const event of fresh) affected.set(key(event.source, event.orderId), event);
  const affectedOrders = await client.query<{
    source: LedgerOrder['source'];
    order_id: string;
    member_id: string;
    month: string;
    category: LedgerOrder['category'];
    amount: number;
    points: number;
    qualifies: boolean;
    refunded: number;
  }>(
    `SELECT o.source, o.order_id, o.member_id, o.month, o.category, o.amount, o.points, o.qualifies,
            COALESCE(r.total, 0)::bigint AS refunded
     FROM UNNEST($1::text[], $2::text[]) AS k(source, order_id)
     JOIN scoring.orders o ON o.source = k.source AND o.order_id = k.order_id
     LEFT JOIN LATERAL (
       SELECT sum(r.amount) AS total FROM scoring.refunds r
       WHERE r.source = o.source AND r.order_id = o.order_id AND r.member_id = o.member_id
     ) r ON true`,
    [[...affected.values()].map((a) => a.source), [...affected.values()].map((a) => a.orderId)],
  );
  const ledgerOrders: LedgerOrder[] = affectedOrders.rows.map((row) => ({
    source: row.source,
    orderId: row.order_id,
    memberId: row.member_id,
    month: row.month,
    category: row.category,
    amount: row.amount,
    points: row.points,
    qualifies: row.qualifies,
    refunded: row.refunded,
  }));

  const bucketKeys = new Map(ledgerOrders.map((o) => [`${o.memberId}\u0000${o.month}\u0000${o.source}`, o]));
  const buckets = await client.query<BucketRow>(
    `SELECT b.member_id, b.month, b.source, b.order_points, b.qualifying_orders, b.points
     FROM UNNEST($1::text[], $2::text[], $3::text[]) AS k(member_id, month, source)
     JOIN scoring.buckets b ON b.member_id = k.member_id AND b.month = k.month AND b.source = k.source`,
    [
      [...bucketKeys.values()].map((o) => o.memberId),
      [...bucketKeys.values()].map((o) => o.month),
      [...bucketKeys.values()].map((o) => o.source),
    ],
  );

  const plan = planBatch(rules.score, {
    orders: ledgerOrders,
    buckets: buckets.rows.map(toLedgerBucket),
    members: members.rows.map((row) => ({
      memberId: row.member_id,
      windowFrom: row.window_from,
      breakdown: breakdownOf(row),
      version: row.version,
    })),
  });

  await client.query(
    `UPDATE scoring.orders o SET refunded = u.refunded, points = u.points, qualifies = u.qualifies
     FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::int[], $5::bool[]) AS u(source, order_id, refunded, points, qualifies)
     WHERE o.source = u.source AND o.order_id = u.order_id
       AND (o.refunded, o.points, o.qualifies) IS DISTINCT FROM (u.refunded, u.points, u.qualifies)`,
    [
      plan.orders.map((o) => o.source),
      plan.orders.map((o) => o.orderId),
      plan.orders.map((o) => o.refunded),
      plan.orders.map((o) => o.points),
      plan.orders.map((o) => o.qualifies),
    ],
  );
  await upsertBuckets(client, plan.buckets);

  const windowOf = new Map(members.rows.map((row) => [row.member_id, row.window_from]));
  const changed = plan.members.filter((m) => m.changed);
  const expiring = await expiringPointsOf(
    client,
    changed.map((m) => ({ memberId: m.memberId, windowFrom: windowOf.get(m.memberId) as string })),
    window.nextWindowFrom,
  );
  const causes = new Map<string, string[]>();
  for (const event of fresh)
    causes.set(event.memberId, [...(causes.get(event.memberId) ?? []), event.eventId]);

  const updates = changed.map((m) => ({
    memberId: m.memberId,
    version: m.version,
    score: m.score,
    breakdown: m.breakdown,
    windowFrom: windowOf.get(m.memberId) as string,
    expiringPoints: expiring.get(m.memberId) ?? 0,
    expiringAt: window.nextEvaluationAt,
    ruleVersion: rules.version,
  }));
  await updateMembers(client, updates, now);
  const records = updates.map((u, i) =>
    scoreChangedRecord(
      {
        ...u,
        previousScore: changed[i]?.previousScore ?? 0,
        expiring: { points: u.expiringPoints, evaluationAt: u.expiringAt },
        causeEventIds: causes.get(u.memberId) ?? [],
      },
      'consumption',
      now,
      rules,
    ),
  );
  await enqueueOutbox(
    client,
    'scoring',
    records.map((record) => ({
      eventId: record.eventId,
      topic: 'scoreChanged',
      key: record.memberId,
      payload: record,
    })),
  );
  return { inserted: [...inserted], rejected, changes: records };
}
