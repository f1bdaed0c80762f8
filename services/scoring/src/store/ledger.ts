import {
  type ConsumptionEvent,
  consumptionEventId,
  type DeadLetter,
  type OrderCompleted,
  type OrderRefunded,
  type ScoreChanged,
} from '@taobi/contracts';
import { copyToStaging, enqueueOutbox, type PoolClient } from '@taobi/platform';
import {
  bucketKey,
  type LedgerOrder,
  planMembers,
  planOrders,
  type RuleSet,
  shanghaiMonth,
} from '@taobi/rules';
import {
  CONFLICTING_DUPLICATE,
  conflictingFields,
  type StoredConsumption,
  splitRepeats,
} from '../domain/consumption-check';
import { scoreChangedRecord } from '../domain/score-view';
import { ensureLabels, type KnownLabels, labelsOf, recordedAfterSql } from './labels';
import { refoldedUpdate, refoldMembers } from './rebuild';
import {
  asJson,
  breakdownOf,
  incrementBuckets,
  type LogPosition,
  lockMembers,
  type MemberUpdate,
  memberOutlooks,
  updateMembers,
} from './sql';
import { readWindowState } from './window-state';

export interface FoldResult {
  /** Events the ledger did not hold before this batch. */
  inserted: string[];
  /**
   * For the DLQ, not stored: refunds naming another member than their order's, and conflicting
   * duplicates (an eventId the ledger holds with other fields: `errors` names them, `storedValue`
   * is the version kept).
   */
  rejected: {
    event: ConsumptionEvent;
    reason: string;
    errors?: DeadLetter['errors'];
    storedValue?: StoredConsumption;
  }[];
  /** The score-changed records enqueued (one per member whose score moved). */
  changes: ScoreChanged[];
}

const key = (source: string, id: string) => `${source}\u0000${id}`;

interface OrderRow {
  source: LedgerOrder['source'];
  order_id: string;
  member_id: string;
  /** Its month is derived: shanghaiMonth(occurred_at). */
  occurred_at: Date;
  category: LedgerOrder['category'];
  amount: number;
  points: number;
  qualifies: boolean;
  refunded: number;
}

/**
 * Folds one batch of checked consumption events inside the caller's transaction, with a fixed
 * number of set-based statements whatever the batch size:
 *
 * 1. new refunds enter the ledger (unique on eventId and on (source, refundId)); a refund naming
 *    another member than its known order is refused;
 * 2. the batch's orders enter the ledger (unique on eventId and on (source, orderId)) with their
 *    contribution as if unrefunded; the statement answers, for each new one, the refunds the
 *    ledger holds for it (held refunds, this batch's included);
 * 3. what the ledger already held, and the batch's later copies of an eventId, are compared with
 *    the stored version in one statement: an exact copy is a duplicate and stops here, one that
 *    differs in a field that matters is refused as a conflicting duplicate (the first one stays);
 * 4. existing orders reached by new refunds, and new orders with held refunds, are re-credited;
 * 5. the contribution differences are added to the month buckets atomically;
 * 6. the members concerned are locked (in id order), `planMembers` gives their new breakdowns (a
 *    member whose score is still under an older rule set is refolded from the ledger under this one
 *    instead: at most once per member and rule change), and each changed member is written with the
 *    next version, its row in `score_versions` (same statement) and one score-changed outbox row.
 */
export async function foldBatch(
  client: PoolClient,
  events: readonly ConsumptionEvent[],
  context: { rules: RuleSet; now: Date; position?: LogPosition; knownLabels?: KnownLabels },
): Promise<FoldResult> {
  const { rules, now, position } = context;
  const { distinct, repeats } = splitRepeats(events);
  const orders = distinct.filter((e): e is OrderCompleted => e.kind === 'completed');
  const { refunds, rejected } = await refusedRefunds(
    client,
    orders,
    distinct.filter((e): e is OrderRefunded => e.kind === 'refunded'),
  );
  const inserted: string[] = [];

  // Labels the caller committed already (`knownLabels`) need no statement here.
  const labels = labelsOf([...refunds, ...orders]);
  if (!context.knownLabels?.has(labels)) await ensureLabels(client, labels);
  const newRefunds = await insertRefunds(client, refunds);
  inserted.push(...newRefunds.map((r) => r.eventId));

  // 2. Orders enter the ledger credited with their points as if unrefunded; the statement answers
  // the refunds the ledger holds for each new one (refunds arrive before their order at times).
  const credited = creditOrders(rules, orders);
  const newOrders = await insertOrders(client, orders, credited);
  inserted.push(...orders.filter((o) => newOrders.has(key(o.source, o.orderId))).map((o) => o.eventId));

  // 3. Duplicates: exact copies or conflicting ones.
  const kept = new Set([...inserted, ...rejected.map((r) => r.event.eventId)]);
  rejected.push(
    ...(await conflictingDuplicates(client, [...distinct.filter((e) => !kept.has(e.eventId)), ...repeats])),
  );
  if (inserted.length === 0) return { inserted, rejected, changes: [] };

  // 4. Existing orders a new refund reaches, and new orders the ledger held refunds for.
  const reached = [...new Map(newRefunds.map((r) => [key(r.source, r.orderId), r])).values()].filter(
    (r) => !newOrders.has(key(r.source, r.orderId)),
  );
  const credit = credited.filter((o) => newOrders.has(key(o.source, o.orderId)));
  const held = credit
    .map((o) => ({ ...o, refunded: newOrders.get(key(o.source, o.orderId)) ?? 0 }))
    .filter((o) => o.refunded > 0);
  const recredited = await recreditOrders(client, reached, held, rules);

  // 5. Bucket deltas: new orders from nothing (to their points as if unrefunded), re-credited ones
  // from what they had.
  const { deltas } = planOrders(rules.score, [
    ...credit.map((o) => ({ ...o, points: 0, qualifies: false })),
    ...recredited,
  ]);
  const after = await incrementBuckets(client, deltas);
  if (after.length === 0) return { inserted, rejected, changes: [] };
  const deltaOf = new Map(deltas.map((d) => [bucketKey(d.memberId, d.month, d.source), d]));

  // 6. Members: those whose score is under an older rule set are first refolded under this one.
  const window = await readWindowState(client, now, rules);
  const members = await lockMembers(
    client,
    after.map((b) => b.memberId),
    { windowFrom: window.windowFrom, baseScore: rules.score.baseScore, ruleVersion: rules.version },
  );
  const stale = members.filter((row) => row.rule_version !== rules.version);
  const current = members.filter((row) => row.rule_version === rules.version);
  const isCurrent = new Set(current.map((row) => row.member_id));
  const outcomes = planMembers(rules.score, {
    buckets: after
      .filter((b) => isCurrent.has(b.memberId))
      .map((b) => ({
        after: b,
        delta: deltaOf.get(bucketKey(b.memberId, b.month, b.source)) ?? {
          orderPoints: 0,
          qualifyingOrders: 0,
        },
      })),
    members: current.map((row) => ({
      memberId: row.member_id,
      windowFrom: row.window_from,
      breakdown: breakdownOf(row, rules.score),
      version: row.version,
    })),
  });
  const windowOf = new Map(members.map((row) => [row.member_id, row.window_from]));
  const previousScore = new Map(members.map((row) => [row.member_id, row.score]));
  const changed = outcomes.filter((m) => m.changed);
  const outlooks = await memberOutlooks(
    client,
    changed.map((m) => ({ memberId: m.memberId, windowFrom: windowOf.get(m.memberId) as string })),
    window.nextEvaluationAt,
    rules,
  );
  const updates: (MemberUpdate & { changed: boolean })[] = changed.map((m) => {
    const outlook = outlooks.get(m.memberId);
    return {
      memberId: m.memberId,
      version: m.version,
      score: m.score,
      breakdown: m.breakdown,
      windowFrom: windowOf.get(m.memberId) as string,
      expiringPoints: outlook?.expiring.points ?? 0,
      expiringAt: outlook?.expiring.evaluationAt ?? window.nextEvaluationAt,
      months: outlook?.months ?? [],
      ruleVersion: rules.version,
      changed: true,
    };
  });
  if (stale.length > 0) {
    const refolded = await refoldMembers(
      client,
      stale.map((row) => row.member_id),
      rules,
    );
    for (const row of stale) {
      updates.push(
        refoldedUpdate(row, refolded.buckets.get(row.member_id) ?? [], {
          rules,
          windowFrom: row.window_from,
          next: window.nextEvaluationAt,
        }),
      );
    }
  }
  await updateMembers(client, updates, { now, reason: 'consumption', ...(position ? { position } : {}) });

  const causes = new Map<string, string[]>();
  const refundCauses = new Map<string, string[]>();
  const insertedIds = new Set(inserted);
  for (const event of events) {
    if (!insertedIds.has(event.eventId)) continue;
    for (const map of event.kind === 'refunded' ? [causes, refundCauses] : [causes]) {
      const list = map.get(event.memberId) ?? [];
      list.push(event.eventId);
      map.set(event.memberId, list);
    }
  }
  const records = updates
    .filter((u) => u.changed)
    .map((u) =>
      scoreChangedRecord(
        {
          ...u,
          previousScore: previousScore.get(u.memberId) ?? 0,
          expiring: { points: u.expiringPoints, evaluationAt: u.expiringAt },
          causeEventIds: causes.get(u.memberId) ?? [],
          refundEventIds: refundCauses.get(u.memberId) ?? [],
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
  return { inserted, rejected, changes: records };
}

/**
 * The orders as the ledger takes them: credited under `rules` as if unrefunded (the fold
 * re-credits those it finds refunds for).
 */
export function creditOrders(rules: RuleSet, orders: readonly OrderCompleted[]): LedgerOrder[] {
  return planOrders(
    rules.score,
    orders.map((o) => ({
      source: o.source,
      orderId: o.orderId,
      memberId: o.memberId,
      month: shanghaiMonth(new Date(o.occurredAt)),
      category: o.category,
      amount: o.amount,
      points: 0,
      qualifies: false,
      refunded: 0,
    })),
  ).orders;
}

/** A refund counts only against its own member's order: one naming someone else is refused. */
async function refusedRefunds(
  client: PoolClient,
  orders: readonly OrderCompleted[],
  refunds: readonly OrderRefunded[],
): Promise<{ refunds: OrderRefunded[]; rejected: FoldResult['rejected'] }> {
  if (refunds.length === 0) return { refunds: [], rejected: [] };
  const owners = new Map(orders.map((o) => [key(o.source, o.orderId), o.memberId]));
  const { rows } = await client.query<{ source: string; order_id: string; member_id: string }>(
    `SELECT k.source, o.order_id, o.member_id
     FROM json_to_recordset($1::json) AS k(source text, order_id text)
     JOIN scoring.labels s ON s.label = k.source
     JOIN scoring.orders o ON o.source_code = s.code AND o.order_id = k.order_id`,
    [asJson(refunds.map((r) => ({ source: r.source, order_id: r.orderId })))],
  );
  for (const row of rows) owners.set(key(row.source, row.order_id), row.member_id);
  const rejected: FoldResult['rejected'] = [];
  const accepted = refunds.filter((refund) => {
    const owner = owners.get(key(refund.source, refund.orderId));
    if (owner === undefined || owner === refund.memberId) return true;
    rejected.push({ event: refund, reason: 'refund names another member than its order' });
    return false;
  });
  return { refunds: accepted, rejected };
}

interface StoredEventRow {
  kind: 'completed' | 'refunded';
  source: ConsumptionEvent['source'];
  external_id: string;
  order_id: string;
  member_id: string;
  /** NOT NULL on orders; NULL on refunds, which do not read them. */
  channel: OrderCompleted['channel'];
  category: OrderCompleted['category'];
  /** '' when the order named none. */
  merchant_id: string;
  amount: number;
  occurred_at: Date;
}

/**
 * A ledger row as the consumption event it stores, without what the ledger does not keep (the
 * `receivedAt`, a refund's channel and category); the eventId is derived from the row's key, as the
 * check before insert guaranteed it was. Whatever is missing is not a field that matters.
 */
function storedEvent(row: StoredEventRow): StoredConsumption {
  const common = {
    eventId: consumptionEventId(row.source, row.kind, row.external_id),
    schemaVersion: 1 as const,
    source: row.source,
    orderId: row.order_id,
    memberId: row.member_id,
    amount: row.amount,
    currency: 'CNY' as const,
    ...(row.merchant_id === '' ? {} : { merchantId: row.merchant_id }),
    occurredAt: row.occurred_at.toISOString(),
  };
  if (row.kind === 'refunded') return { ...common, kind: 'refunded', refundId: row.external_id };
  return { ...common, kind: 'completed', channel: row.channel, category: row.category };
}

/**
 * Compares events whose eventId the ledger holds (inserted earlier, or by this batch) with the
 * stored versions, read in one statement, and returns those that differ for the DLQ.
 */
async function conflictingDuplicates(
  client: PoolClient,
  candidates: readonly ConsumptionEvent[],
): Promise<FoldResult['rejected']> {
  if (candidates.length === 0) return [];
  // By their keys (the eventId is a function of them: the ledger does not store it).
  const keys = candidates.map((e) => ({
    kind: e.kind,
    source: e.source,
    id: e.kind === 'completed' ? e.orderId : e.refundId,
  }));
  const { rows } = await client.query<StoredEventRow>(
    `WITH k AS (SELECT k.*, s.code FROM json_to_recordset($1::json) AS k(kind text, source text, id text)
                JOIN scoring.labels s ON s.label = k.source)
     SELECT 'completed' AS kind, k.source, o.order_id AS external_id, o.order_id, o.member_id,
            c.label AS channel, g.label AS category, o.merchant_id, o.amount, o.occurred_at
     FROM scoring.orders o JOIN k ON k.kind = 'completed' AND o.source_code = k.code AND o.order_id = k.id
     JOIN scoring.labels c ON c.code = o.channel_code
     JOIN scoring.labels g ON g.code = o.category_code
     UNION ALL
     SELECT 'refunded', k.source, r.refund_id, r.order_id, r.member_id, NULL, NULL, '', r.amount, r.occurred_at
     FROM scoring.refunds r JOIN k ON k.kind = 'refunded' AND r.source_code = k.code AND r.refund_id = k.id`,
    [asJson(keys)],
  );
  const stored = new Map(
    rows.map((row) => {
      const event = storedEvent(row);
      return [event.eventId, event];
    }),
  );
  return candidates.flatMap((event) => {
    const version = stored.get(event.eventId);
    // Not held: a copy of a refund refused above (another member), which has its letter already.
    if (!version) return [];
    const errors = conflictingFields(version, event);
    return errors.length === 0
      ? []
      : [{ event, reason: CONFLICTING_DUPLICATE, errors, storedValue: version }];
  });
}

async function insertRefunds(
  client: PoolClient,
  refunds: readonly OrderRefunded[],
): Promise<OrderRefunded[]> {
  if (refunds.length === 0) return [];
  const { rows } = await client.query<{ source: string; refund_id: string }>(
    `WITH added AS (
       INSERT INTO scoring.refunds (occurred_at, amount, recorded_after, source_code, member_id, refund_id, order_id)
       SELECT r.occurred_at, r.amount, ${recordedAfterSql('r.occurred_at')}, s.code, r.member_id, r.refund_id, r.order_id
       FROM json_to_recordset($1::json) AS r(source text, refund_id text, order_id text, member_id text,
         amount integer, occurred_at timestamptz)
       LEFT JOIN scoring.labels s ON s.label = r.source
       ON CONFLICT DO NOTHING
       RETURNING source_code, refund_id)
     SELECT s.label AS source, a.refund_id FROM added a JOIN scoring.labels s ON s.code = a.source_code`,
    [
      asJson(
        refunds.map((r) => ({
          source: r.source,
          refund_id: r.refundId,
          order_id: r.orderId,
          member_id: r.memberId,
          amount: r.amount,
          occurred_at: r.occurredAt,
        })),
      ),
    ],
  );
  const fresh = new Set(rows.map((row) => key(row.source, row.refund_id)));
  return refunds.filter((r) => fresh.has(key(r.source, r.refundId)));
}

// The staging table holds the labels as text (its type, scoring.order_in, is the migration's); the
// INSERT .. SELECT turns them into the ledger's codes.
const ORDERS_STAGING = { name: 'scoring_order_in', template: 'scoring.order_in' };
const ORDER_COLUMNS = [
  'source',
  'order_id',
  'member_id',
  'channel',
  'category',
  'merchant_id',
  'amount',
  'occurred_at',
  'points',
  'qualifies',
] as const;

/**
 * Inserts the orders with their points (`credited[i]` is `orders[i]` credited); returns those that
 * were new, by key, each with the refunds (same member) the ledger holds for it. Exported for the
 * bench's ceiling (`tests/bench/scoring-ceilings.ts`).
 */
export async function insertOrders(
  client: PoolClient,
  orders: readonly OrderCompleted[],
  credited: readonly LedgerOrder[],
): Promise<Map<string, number>> {
  if (orders.length === 0) return new Map();
  // COPY into the session's staging table, then one INSERT .. SELECT that dedupes (ON CONFLICT).
  // A second fold in the same transaction would find this one's rows still staged: they are in the
  // ledger already, so they conflict and are neither inserted nor returned again.
  await copyToStaging(
    client,
    ORDERS_STAGING,
    ORDER_COLUMNS,
    orders.map((o, i) => [
      o.source,
      o.orderId,
      o.memberId,
      o.channel,
      o.category,
      o.merchantId ?? '',
      o.amount,
      o.occurredAt,
      credited[i]?.points,
      credited[i]?.qualifies,
    ]),
  );
  // Labels without a code (ensureLabels not called) leave the code NULL: the statement fails.
  const { rows } = await client.query<{ source: string; order_id: string; refunded: number | null }>(
    `WITH added AS (
       INSERT INTO scoring.orders (occurred_at, amount, points, recorded_after, source_code, channel_code,
         category_code, qualifies, member_id, order_id, merchant_id)
       SELECT i.occurred_at, i.amount, i.points, ${recordedAfterSql('i.occurred_at')}, s.code, c.code, g.code,
         i.qualifies, i.member_id, i.order_id, i.merchant_id
       FROM ${ORDERS_STAGING.name} i
       LEFT JOIN scoring.labels s ON s.label = i.source
       LEFT JOIN scoring.labels c ON c.label = i.channel
       LEFT JOIN scoring.labels g ON g.label = i.category
       ON CONFLICT DO NOTHING
       RETURNING source_code, order_id, member_id)
     SELECT s.label AS source, a.order_id,
       (SELECT sum(r.amount) FROM scoring.refunds r
        WHERE r.member_id = a.member_id AND r.source_code = a.source_code AND r.order_id = a.order_id)::bigint
         AS refunded
     FROM added a JOIN scoring.labels s ON s.code = a.source_code`,
  );
  return new Map(rows.map((row) => [key(row.source, row.order_id), row.refunded ?? 0]));
}

/**
 * Reloads the existing orders reached by new refunds, with their refund totals now, and writes
 * their new contribution, and that of the new orders (`held`: as inserted, with the refunds the
 * ledger held for them). Returns all of them as they were (their old points) with the new refund
 * total, ready for `planOrders` to turn into bucket deltas.
 */
async function recreditOrders(
  client: PoolClient,
  reached: readonly OrderRefunded[],
  held: readonly LedgerOrder[],
  rules: RuleSet,
): Promise<LedgerOrder[]> {
  if (reached.length === 0 && held.length === 0) return [];
  const { rows } =
    reached.length === 0
      ? { rows: [] }
      : await client.query<OrderRow>(
          `SELECT k.source, o.order_id, o.member_id, o.occurred_at, g.label AS category, o.amount, o.points,
            o.qualifies,
            COALESCE((SELECT sum(r.amount) FROM scoring.refunds r
                      WHERE r.member_id = o.member_id AND r.source_code = o.source_code AND r.order_id = o.order_id),
                     0)::bigint AS refunded
     FROM json_to_recordset($1::json) AS k(source text, order_id text)
     JOIN scoring.labels s ON s.label = k.source
     JOIN scoring.orders o ON o.source_code = s.code AND o.order_id = k.order_id
     JOIN scoring.labels g ON g.code = o.category_code
     FOR UPDATE OF o`,
          [asJson(reached.map((r) => ({ source: r.source, order_id: r.orderId })))],
        );
  const before: LedgerOrder[] = rows.map(
    (row): LedgerOrder => ({
      source: row.source,
      orderId: row.order_id,
      memberId: row.member_id,
      month: shanghaiMonth(row.occurred_at),
      category: row.category,
      amount: row.amount,
      points: row.points,
      qualifies: row.qualifies,
      refunded: row.refunded,
    }),
  );
  before.push(...held);
  const { orders: next } = planOrders(rules.score, before);
  await client.query(
    `UPDATE scoring.orders o SET points = u.points, qualifies = u.qualifies
     FROM json_to_recordset($1::json) AS u(source text, order_id text, points int, qualifies bool)
     JOIN scoring.labels s ON s.label = u.source
     WHERE o.source_code = s.code AND o.order_id = u.order_id`,
    [
      asJson(
        next.map((o) => ({
          source: o.source,
          order_id: o.orderId,
          points: o.points,
          qualifies: o.qualifies,
        })),
      ),
    ],
  );
  return before;
}
