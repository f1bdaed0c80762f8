import { consumptionEventId, externalIdSchema, isoTimeSchema, type Source } from '@taobi/contracts';
import { cursorCodec } from '@taobi/platform';
import {
  addMonths,
  bucketPoints,
  expiryEvaluationOf,
  type Month,
  orderContribution,
  type RuleSet,
  shanghaiMonth,
  sourceIds,
  weighs,
} from '@taobi/rules';
import { z } from 'zod';
import { categoryOfSql, channelOfSql } from './labels';
import type { Queryable } from './sql';

/**
 * `GET /v1/members/:id/score/history`: the transparent growth path. Every order the member has,
 * newest first, with its refunds, the points it earns before monthly caps, and when it expires;
 * every (month, source) bucket with its caps applied; refunds still waiting for their order.
 */
export interface Contribution {
  eventId: string;
  orderId: string;
  source: Source;
  channel: string;
  category: string;
  merchantId: string | null;
  occurredAt: string;
  month: Month;
  amount: number;
  refunded: number;
  netAmount: number;
  /** Spending points of this order (before the monthly cap of its month and source). */
  points: number;
  /** Whether it earns frequency points. */
  qualifiesForFrequency: boolean;
  refunds: { refundId: string; eventId: string; amount: number; occurredAt: string }[];
  /** `counted` while its month is in the member's window, `expired` after. */
  status: 'counted' | 'expired';
  /** The month of the evaluation at which it stops counting, and that evaluation's instant. */
  expiryMonth: Month;
  expiresAt: string;
}

export interface MonthSummary {
  month: Month;
  source: Source;
  orderPoints: number;
  qualifyingOrders: number;
  amountPoints: number;
  frequencyPoints: number;
  points: number;
  status: 'counted' | 'expired';
  expiryMonth: Month;
  expiresAt: string;
}

export interface History {
  memberId: string;
  windowFrom: Month | null;
  months: MonthSummary[];
  contributions: Contribution[];
  heldRefunds: {
    refundId: string;
    eventId: string;
    orderId: string;
    source: Source;
    amount: number;
    occurredAt: string;
  }[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/**
 * The history's keyset: the last contribution of a page, as (occurredAt, source, orderId). Only
 * what the ledger can hold decodes: an instant of years 0001-9999, a source of the rule set in
 * force (sources are data), an external id.
 */
export function historyCursor(rules: RuleSet) {
  const source = z.string().refine((id) => sourceIds(rules.score).includes(id));
  return cursorCodec(z.tuple([isoTimeSchema, source, externalIdSchema]));
}
type Cursor = ReturnType<ReturnType<typeof historyCursor>['decode']>;

/**
 * The member's history under `rules` (in force), each order's points under the member's rule set
 * (`ruleSetOf` their `rule_version`: the one their buckets were folded under; the rules in force
 * for a member without a row, whose orders never added anything).
 */
export async function readHistory(
  db: Queryable,
  memberId: string,
  page: { limit: number; cursor?: Cursor | undefined },
  rules: RuleSet,
  ruleSetOf: (version: string) => Promise<RuleSet | undefined>,
): Promise<History> {
  const member = await db.query<{ window_from: string; rule_version: string }>(
    'SELECT window_from, rule_version FROM scoring.members WHERE member_id = $1',
    [memberId],
  );
  const windowFrom = member.rows[0]?.window_from ?? null;
  const version = member.rows[0]?.rule_version;
  const credited = (version === undefined ? undefined : await ruleSetOf(version)) ?? rules;
  const counted = (month: string) => (windowFrom !== null && month >= windowFrom ? 'counted' : 'expired');
  const expiresAt = (month: string) => expiryEvaluationOf(month, rules.evaluation).toISOString();
  const expiryMonth = (month: string) => addMonths(month, rules.evaluation.windowMonths);

  const cursor = page.cursor;
  // Event ids, months, refund totals and points are derived from the ledger's rows (it does not
  // store them); sources, channels and categories are read back from their codes.
  const orders = await db.query<{
    order_id: string;
    source: Source;
    channel: string;
    category: string;
    merchant_id: string | null;
    occurred_at: Date;
    amount: number;
    refunds: { refundId: string; amount: number; occurredAt: string }[];
  }>(
    `SELECT o.order_id, s.label AS source, ${channelOfSql('p.label')} AS channel,
            ${categoryOfSql('p.label')} AS category, o.merchant_id, o.occurred_at, o.amount,
            COALESCE((SELECT json_agg(json_build_object('refundId', r.refund_id,
                        'amount', r.amount, 'occurredAt', r.occurred_at) ORDER BY r.occurred_at)
                      FROM scoring.refunds r
                      WHERE r.member_id = o.member_id AND r.source_code = o.source_code AND r.order_id = o.order_id),
                     '[]') AS refunds
     FROM scoring.orders o
     JOIN scoring.labels s ON s.code = o.source_code
     JOIN scoring.labels p ON p.code = o.channel_category_code
     WHERE o.member_id = $1
       AND ($2::timestamptz IS NULL OR (o.occurred_at, s.label, o.order_id) < ($2::timestamptz, $3::text, $4::text))
     ORDER BY o.occurred_at DESC, s.label DESC, o.order_id DESC
     LIMIT $5`,
    [memberId, cursor?.[0] ?? null, cursor?.[1] ?? '', cursor?.[2] ?? '', page.limit + 1],
  );
  const hasMore = orders.rows.length > page.limit;
  const pageRows = orders.rows.slice(0, page.limit);
  const lastRow = pageRows.at(-1);

  const buckets = await db.query<{
    month: string;
    source: Source;
    order_points: number;
    qualifying_orders: number;
  }>(
    `SELECT month, source, order_points, qualifying_orders FROM scoring.buckets
     WHERE member_id = $1 ORDER BY month DESC, source`,
    [memberId],
  );
  const held = await db.query<{
    refund_id: string;
    order_id: string;
    source: Source;
    amount: number;
    occurred_at: Date;
  }>(
    `SELECT r.refund_id, r.order_id, s.label AS source, r.amount, r.occurred_at FROM scoring.refunds r
     JOIN scoring.labels s ON s.code = r.source_code
     WHERE r.member_id = $1
       AND NOT EXISTS (SELECT 1 FROM scoring.orders o
                       WHERE o.source_code = r.source_code AND o.order_id = r.order_id AND o.member_id = r.member_id)
     ORDER BY r.occurred_at DESC`,
    [memberId],
  );

  return {
    memberId,
    windowFrom,
    months: buckets.rows.map((b) => {
      const points = bucketPoints(rules.score, b.source, {
        orderPoints: b.order_points,
        qualifyingOrders: b.qualifying_orders,
      });
      return {
        month: b.month,
        source: b.source,
        orderPoints: b.order_points,
        qualifyingOrders: b.qualifying_orders,
        ...points,
        status: counted(b.month),
        expiryMonth: expiryMonth(b.month),
        expiresAt: expiresAt(b.month),
      };
    }),
    contributions: pageRows.map((o) => {
      const month = shanghaiMonth(o.occurred_at);
      // The sum of its refunds, and its points (derived: the ledger does not store them).
      const refunded = o.refunds.reduce((sum, r) => sum + r.amount, 0);
      // An order its member's rule set has no weight for came under a newer one, adding nothing.
      const under = weighs(credited.score, o.source, o.category) ? credited : rules;
      const contribution = orderContribution(under.score, { ...o, refunded });
      return {
        eventId: consumptionEventId(o.source, 'completed', o.order_id),
        orderId: o.order_id,
        source: o.source,
        channel: o.channel,
        category: o.category,
        merchantId: o.merchant_id,
        occurredAt: o.occurred_at.toISOString(),
        month,
        amount: o.amount,
        refunded,
        netAmount: Math.max(0, o.amount - refunded),
        points: contribution.points,
        qualifiesForFrequency: contribution.qualifies,
        refunds: o.refunds.map((r) => ({
          refundId: r.refundId,
          eventId: consumptionEventId(o.source, 'refunded', r.refundId),
          amount: r.amount,
          occurredAt: new Date(r.occurredAt).toISOString(),
        })),
        status: counted(month),
        expiryMonth: expiryMonth(month),
        expiresAt: expiresAt(month),
      };
    }),
    heldRefunds: held.rows.map((r) => ({
      refundId: r.refund_id,
      eventId: consumptionEventId(r.source, 'refunded', r.refund_id),
      orderId: r.order_id,
      source: r.source,
      amount: r.amount,
      occurredAt: r.occurred_at.toISOString(),
    })),
    nextCursor:
      hasMore && lastRow
        ? historyCursor(rules).encode([lastRow.occurred_at.toISOString(), lastRow.source, lastRow.order_id])
        : null,
  };
}
