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
  creditedDeltas,
  type LedgerOrder,
  orderContribution,
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
import {
  categoryOfSql,
  channelOfSql,
  ensureLabels,
  type KnownLabels,
  labelsOf,
  pairLabelSql,
  recordedAfterSql,
} from './labels';
import { refoldedUpdate, refoldMembers } from './rebuild';
import {
  applyDeltas,
  asJson,
  breakdownOf,
  type LockedMember,
  type LogPosition,
  lockMembers,
  type MemberUpdate,
  outlookOf,
  scoredBucket,
  updateMembers,
} from './sql';
import { windowFromBeforeEvaluations, windowStateOf } from './window-state';

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

/**
 * Folds one batch of checked consumption events inside the caller's transaction, with a fixed
 * number of set-based statements whatever the batch size (a statement with nothing to do is not
 * sent; a batch of orders only is 6 round trips, BEGIN and COMMIT aside):
 *
 * 1. (refunds) new refunds enter the ledger (unique on eventId and on (source, refundId)); a refund
 *    naming another member than its order (the ledger's, else the batch's) is refused; the existing
 *    orders the new ones reach are locked and read with their refund totals now;
 * 2. (two round trips: the COPY into the staging table, then one INSERT .. SELECT) the batch's
 *    orders enter the ledger (unique on eventId and on (source, orderId)), their contribution as
 *    if unrefunded computed beside; the statement answers, for each new one, the refunds the ledger
 *    holds for it (held refunds, this batch's included);
 * 3. (only when an event was not inserted) what the ledger already held, and the batch's later
 *    copies of an eventId, are compared with the stored version: an exact copy is a duplicate and
 *    stops here, one that differs in a field that matters is refused as a conflicting duplicate
 *    (the first one stays);
 * 4. one statement adds the contribution differences to the month buckets atomically (new orders',
 *    and those of the orders whose refunds changed: reached by new refunds, or new with held
 *    refunds; the ledger stores no order's points, they are derived from its amount and refunds),
 *    and creates the members not seen before (window start: the latest evaluation's);
 * 5. one statement locks the members concerned (in id order) and reads them with their buckets in
 *    their window and the latest evaluation; `planMembers` gives their new breakdowns (a member
 *    whose score is still under an older rule set is refolded from the ledger under this one
 *    instead: at most once per member and rule change);
 * 6. each changed member is written with the next version and its row in `score_versions` (one
 *    statement), and one score-changed outbox row (one statement).
 */
export async function foldBatch(
  client: PoolClient,
  events: readonly ConsumptionEvent[],
  context: { rules: RuleSet; now: Date; position?: LogPosition; knownLabels?: KnownLabels },
): Promise<FoldResult> {
  const { rules, now, position } = context;
  const { distinct, repeats } = splitRepeats(events);
  const orders = distinct.filter((e): e is OrderCompleted => e.kind === 'completed');
  const refunds = distinct.filter((e): e is OrderRefunded => e.kind === 'refunded');
  const inserted: string[] = [];

  // Labels the caller committed already (`knownLabels`) need no statement here.
  const labels = labelsOf(distinct);
  if (!context.knownLabels?.has(labels)) await ensureLabels(client, labels);

  // 1. Refunds, and the existing orders they reach.
  const { added: newRefunds, rejected, reached } = await insertRefunds(client, orders, refunds, rules);
  inserted.push(...newRefunds.map((r) => r.eventId));

  // 2. Orders enter the ledger, each credited here with its points as if unrefunded; the statement
  // answers the refunds the ledger holds for each new one (refunds arrive before their order at times).
  const credited = creditOrders(rules, orders);
  const newOrders = await insertOrders(client, orders);
  // The new orders, credited (`credited[i]` is `orders[i]`), and those of them the ledger held
  // refunds for, with the refunds.
  const credit: LedgerOrder[] = [];
  const refundedEarly: LedgerOrder[] = [];
  orders.forEach((order, i) => {
    const refunded = newOrders.get(key(order.source, order.orderId));
    if (refunded === undefined) return;
    inserted.push(order.eventId);
    const entry = credited[i] as LedgerOrder;
    credit.push(entry);
    if (refunded > 0) refundedEarly.push({ ...entry, refunded });
  });

  // 3. Duplicates: exact copies or conflicting ones (none to look for when every distinct event
  // was inserted or refused and none repeats).
  if (inserted.length + rejected.length < distinct.length || repeats.length > 0) {
    const kept = new Set([...inserted, ...rejected.map((r) => r.event.eventId)]);
    rejected.push(
      ...(await conflictingDuplicates(client, [...distinct.filter((e) => !kept.has(e.eventId)), ...repeats])),
    );
  }
  if (inserted.length === 0) return { inserted, rejected, changes: [] };

  // 4. Existing orders a new refund reached, and new orders the ledger held refunds for, are
  // re-credited; the bucket deltas: new orders from nothing (to their points as if unrefunded),
  // re-credited ones from what they had. One statement adds them, and creates the new members.
  const deltas = creditedDeltas(credit, planOrders(rules.score, [...reached, ...refundedEarly]).deltas);
  const after = await applyDeltas(client, deltas, {
    windowFrom: windowFromBeforeEvaluations(now, rules),
    baseScore: rules.score.baseScore,
    ruleVersion: rules.version,
  });
  if (after.length === 0) return { inserted, rejected, changes: [] };
  const deltaOf = new Map(deltas.map((d) => [bucketKey(d.memberId, d.month, d.source), d]));

  // 5. Members: those whose score is under an older rule set are first refolded under this one.
  const locked = await lockMembers(
    client,
    after.map((b) => b.memberId),
  );
  const members = locked.members;
  const window = windowStateOf(locked.latestEvaluation, now, rules);
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
  const lockedOf = new Map(members.map((row) => [row.member_id, row]));
  const updates: (MemberUpdate & { changed: boolean })[] = [];
  for (const m of outcomes) {
    if (!m.changed) continue;
    const row = lockedOf.get(m.memberId) as LockedMember;
    updates.push({
      memberId: m.memberId,
      version: m.version,
      score: m.score,
      breakdown: m.breakdown,
      windowFrom: row.window_from,
      outlook: outlookOf(
        row.buckets.map((b) => scoredBucket(rules.score, b)),
        row.window_from,
        window.nextEvaluationAt,
        rules,
      ),
      ruleVersion: rules.version,
      changed: true,
    });
  }
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

  // Each changed member's causes: the events this batch inserted for them, in log order.
  const causes = new Map<string, { causeEventIds: string[]; refundEventIds: string[] }>();
  const insertedIds = new Set(inserted);
  for (const event of events) {
    if (!insertedIds.has(event.eventId)) continue;
    let cause = causes.get(event.memberId);
    if (!cause) {
      cause = { causeEventIds: [], refundEventIds: [] };
      causes.set(event.memberId, cause);
    }
    cause.causeEventIds.push(event.eventId);
    if (event.kind === 'refunded') cause.refundEventIds.push(event.eventId);
  }
  const records: ScoreChanged[] = [];
  for (const u of updates) {
    if (!u.changed) continue;
    const cause = causes.get(u.memberId);
    records.push(
      scoreChangedRecord(
        u,
        {
          previousScore: lockedOf.get(u.memberId)?.score ?? 0,
          causeEventIds: cause?.causeEventIds ?? [],
          refundEventIds: cause?.refundEventIds ?? [],
        },
        'consumption',
        now,
        rules,
      ),
    );
  }
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
 * The orders credited under `rules` as if unrefunded (the fold re-credits those it finds refunds
 * for): what a new order adds to its bucket.
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

interface StoredEventRow {
  kind: 'completed' | 'refunded';
  source: ConsumptionEvent['source'];
  external_id: string;
  order_id: string;
  member_id: string;
  /** NOT NULL on orders; NULL on refunds, which do not read them. */
  channel: OrderCompleted['channel'];
  category: OrderCompleted['category'];
  /** NULL when the order named none. */
  merchant_id: string | null;
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
    ...(row.merchant_id === null ? {} : { merchantId: row.merchant_id }),
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
            ${channelOfSql('p.label')} AS channel, ${categoryOfSql('p.label')} AS category, o.merchant_id,
            o.amount, o.occurred_at
     FROM scoring.orders o JOIN k ON k.kind = 'completed' AND o.source_code = k.code AND o.order_id = k.id
     JOIN scoring.labels p ON p.code = o.channel_category_code
     UNION ALL
     SELECT 'refunded', k.source, r.refund_id, r.order_id, r.member_id, NULL, NULL, NULL, r.amount, r.occurred_at
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

interface RefundOutcomeRow {
  outcome: 'added' | 'refused' | 'reached';
  source: LedgerOrder['source'];
  /** The refund's id ('added', 'refused'), or the order's ('reached'). */
  id: string;
  member_id: string | null;
  occurred_at: Date | null;
  category: LedgerOrder['category'] | null;
  amount: number | null;
  /** The order's refund total before this statement's refunds. */
  refunded_before: number | null;
  /** The order's refund total with them. */
  refunded: number | null;
}

/**
 * Step 1 in one statement: the refunds enter the ledger (unique on eventId and on (source,
 * refundId)), except those naming another member than their order (the ledger's, else the
 * batch's), which are refused; and the existing orders the new ones reach are locked and read with
 * their refund totals before and now (the new refunds included). Returns the new refunds, the
 * refused ones for the DLQ, and the reached orders as they are (their points so far, derived under
 * `rules` from their refunds before, and their new refund total).
 */
async function insertRefunds(
  client: PoolClient,
  orders: readonly OrderCompleted[],
  refunds: readonly OrderRefunded[],
  rules: RuleSet,
): Promise<{ added: OrderRefunded[]; rejected: FoldResult['rejected']; reached: LedgerOrder[] }> {
  if (refunds.length === 0) return { added: [], rejected: [], reached: [] };
  const owners = new Map(orders.map((o) => [key(o.source, o.orderId), o.memberId]));
  const { rows } = await client.query<RefundOutcomeRow>({
    name: 'scoring-fold-refunds',
    text: `WITH r AS (
       SELECT r.*, s.code, COALESCE(o.member_id, r.batch_owner) AS owner
       FROM json_to_recordset($1::json) AS r(source text, refund_id text, order_id text, member_id text,
         amount integer, occurred_at timestamptz, batch_owner text)
       LEFT JOIN scoring.labels s ON s.label = r.source
       LEFT JOIN scoring.orders o ON o.source_code = s.code AND o.order_id = r.order_id
     ), added AS (
       INSERT INTO scoring.refunds (occurred_at, amount, recorded_after, source_code, member_id, refund_id, order_id)
       SELECT r.occurred_at, r.amount, ${recordedAfterSql('r.occurred_at')}, r.code, r.member_id, r.refund_id, r.order_id
       FROM r WHERE r.owner IS NULL OR r.owner = r.member_id
       ON CONFLICT DO NOTHING
       RETURNING source_code, refund_id, order_id, member_id, amount
     ), reached AS (
       SELECT o.source_code, o.order_id, o.member_id, o.occurred_at, o.channel_category_code, o.amount
       FROM scoring.orders o
       JOIN (SELECT DISTINCT source_code, order_id, member_id FROM added) k
         ON o.source_code = k.source_code AND o.order_id = k.order_id AND o.member_id = k.member_id
       FOR UPDATE OF o
     ), totals AS (
       -- The refunds of the reached orders: those the statement started with (held), and the new ones.
       SELECT t.source_code, t.order_id, (sum(t.amount) FILTER (WHERE t.held))::bigint AS before,
              sum(t.amount)::bigint AS total
       FROM (SELECT x.source_code, x.order_id, x.amount, true AS held FROM scoring.refunds x
             JOIN reached o ON x.member_id = o.member_id AND x.source_code = o.source_code AND x.order_id = o.order_id
             UNION ALL
             SELECT a.source_code, a.order_id, a.amount, false FROM added a) t
       GROUP BY t.source_code, t.order_id
     )
     SELECT 'added' AS outcome, s.label AS source, a.refund_id AS id, NULL AS member_id,
            NULL::timestamptz AS occurred_at, NULL AS category, NULL::integer AS amount,
            NULL::bigint AS refunded_before, NULL::bigint AS refunded
     FROM added a JOIN scoring.labels s ON s.code = a.source_code
     UNION ALL
     SELECT 'refused', r.source, r.refund_id, NULL, NULL, NULL, NULL, NULL, NULL
     FROM r WHERE r.owner <> r.member_id
     UNION ALL
     SELECT 'reached', s.label, o.order_id, o.member_id, o.occurred_at, ${categoryOfSql('p.label')}, o.amount,
            COALESCE(t.before, 0), t.total
     FROM reached o JOIN totals t ON t.source_code = o.source_code AND t.order_id = o.order_id
     JOIN scoring.labels s ON s.code = o.source_code JOIN scoring.labels p ON p.code = o.channel_category_code`,
    values: [
      asJson(
        refunds.map((r) => ({
          source: r.source,
          refund_id: r.refundId,
          order_id: r.orderId,
          member_id: r.memberId,
          amount: r.amount,
          occurred_at: r.occurredAt,
          batch_owner: owners.get(key(r.source, r.orderId)) ?? null,
        })),
      ),
    ],
  });
  const outcome = new Map<string, RefundOutcomeRow['outcome']>();
  const reached: LedgerOrder[] = [];
  for (const row of rows) {
    if (row.outcome !== 'reached') outcome.set(key(row.source, row.id), row.outcome);
    else {
      const order = {
        source: row.source,
        category: row.category as LedgerOrder['category'],
        amount: row.amount as number,
      };
      reached.push({
        ...order,
        orderId: row.id,
        memberId: row.member_id as string,
        month: shanghaiMonth(row.occurred_at as Date),
        // What the ledger credits it with so far (a member under an older rule set is refolded).
        ...orderContribution(rules.score, { ...order, refunded: row.refunded_before as number }),
        refunded: row.refunded as number,
      });
    }
  }
  const rejected: FoldResult['rejected'] = [];
  for (const refund of refunds) {
    if (outcome.get(key(refund.source, refund.refundId)) === 'refused') {
      rejected.push({ event: refund, reason: 'refund names another member than its order' });
    }
  }
  return {
    added: refunds.filter((r) => outcome.get(key(r.source, r.refundId)) === 'added'),
    rejected,
    reached,
  };
}

// The staging table holds the labels as text (its type, scoring.order_in, is the migration's); the
// INSERT .. SELECT turns them into the ledger's codes (channel and category: one, `pairLabel`).
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
] as const;

/**
 * Inserts the orders; returns those that were new, by key, each with the refunds (same member) the
 * ledger holds for it. Exported for the bench's ceiling (`tests/bench/scoring-ceilings.ts`).
 */
export async function insertOrders(
  client: PoolClient,
  orders: readonly OrderCompleted[],
): Promise<Map<string, number>> {
  if (orders.length === 0) return new Map();
  // COPY into the session's staging table, then one INSERT .. SELECT that dedupes (ON CONFLICT).
  // A second fold in the same transaction would find this one's rows still staged: they are in the
  // ledger already, so they conflict and are neither inserted nor returned again.
  await copyToStaging(
    client,
    ORDERS_STAGING,
    ORDER_COLUMNS,
    orders.map((o) => [
      o.source,
      o.orderId,
      o.memberId,
      o.channel,
      o.category,
      o.merchantId ?? null,
      o.amount,
      o.occurredAt,
    ]),
  );
  // Labels without a code (ensureLabels not called) leave the code NULL: the statement fails.
  const { rows } = await client.query<{ source: string; order_id: string; refunded: number | null }>({
    name: 'scoring-fold-orders',
    text: `WITH added AS (
       INSERT INTO scoring.orders (occurred_at, amount, recorded_after, source_code, channel_category_code,
         member_id, order_id, merchant_id)
       SELECT i.occurred_at, i.amount, ${recordedAfterSql('i.occurred_at')}, s.code, p.code, i.member_id,
         i.order_id, i.merchant_id
       FROM ${ORDERS_STAGING.name} i
       LEFT JOIN scoring.labels s ON s.label = i.source
       LEFT JOIN scoring.labels p ON p.label = ${pairLabelSql('i.channel', 'i.category')}
       ON CONFLICT DO NOTHING
       RETURNING source_code, order_id, member_id),
     held AS (
       SELECT r.source_code, r.order_id, sum(r.amount)::bigint AS total
       FROM scoring.refunds r
       JOIN added a ON r.member_id = a.member_id AND r.source_code = a.source_code AND r.order_id = a.order_id
       GROUP BY r.source_code, r.order_id)
     SELECT s.label AS source, a.order_id, h.total AS refunded
     FROM added a JOIN scoring.labels s ON s.code = a.source_code
     LEFT JOIN held h ON h.source_code = a.source_code AND h.order_id = a.order_id`,
  });
  return new Map(rows.map((row) => [key(row.source, row.order_id), row.refunded ?? 0]));
}
