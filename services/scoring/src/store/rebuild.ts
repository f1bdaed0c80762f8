import type { Category, Source } from '@taobi/contracts';
import { enqueueOutbox, type PoolClient, withTransaction } from '@taobi/platform';
import {
  addToBucket,
  bucketKey,
  type LedgerBucket,
  orderContribution,
  type RuleSet,
  sameBreakdown,
  scoreFromBuckets,
  shanghaiMonth,
  weighs,
} from '@taobi/rules';
import { scoreChangedRecord } from '../domain/score-view';
import type { EvaluationOptions } from './evaluation';
import { categoryOfSql } from './labels';
import {
  type BucketRow,
  breakdownOf,
  MEMBER_COLUMNS,
  type MemberRow,
  type MemberUpdate,
  outlookOf,
  type ScoredBucket,
  scoredBucket,
  toLedgerBucket,
  updateMembers,
  writeBuckets,
} from './sql';
import { readWindowState } from './window-state';

export interface RebuildReport {
  ruleVersion: string;
  membersScanned: number;
  membersChanged: number;
  ordersChanged: number;
  bucketsChanged: number;
  /** The first 100 members whose score changed. */
  changes: { memberId: string; previousScore: number; score: number }[];
}

/**
 * The rebuild pages through members like the evaluation, with the same options, and finds the rule
 * set of a version (the registry's `byVersion`) to tell which orders it changes.
 */
export type RebuildOptions = EvaluationOptions & {
  ruleSetOf: (version: string) => Promise<RuleSet | undefined>;
};

interface OrderRow {
  source: Source;
  order_id: string;
  member_id: string;
  /** Its month is derived: shanghaiMonth(occurred_at). */
  occurred_at: Date;
  category: Category;
  amount: number;
  refunded: number;
}

/**
 * Recomputes the month buckets of `memberIds` from the ledger alone (orders and their refunds)
 * under `rules`, writes the buckets that changed (one statement), and returns every member's
 * buckets with their capped points. The rebuild runs it on every member; the fold and the
 * evaluation on members whose score is still under an older rule set (their `rule_version`), so a
 * member's score is always entirely under one rule set. The ledger stores no order's points (they
 * are derived from its amount and refunds under its member's rule set): `ordersChanged` counts the
 * orders whose contribution under `rules` differs from that under the member's rule set so far
 * (`before`, when given; an order whose member's rule set is unknown or has no weight for it counts
 * as changed).
 */
export async function refoldMembers(
  client: PoolClient,
  memberIds: readonly string[],
  rules: RuleSet,
  before?: ReadonlyMap<string, RuleSet | undefined>,
): Promise<{ buckets: Map<string, ScoredBucket[]>; ordersChanged: number; bucketsChanged: number }> {
  const buckets = new Map<string, ScoredBucket[]>();
  if (memberIds.length === 0) return { buckets, ordersChanged: 0, bucketsChanged: 0 };
  const ids = [...memberIds];
  const orders = await client.query<OrderRow>(
    `SELECT s.label AS source, o.order_id, o.member_id, o.occurred_at, ${categoryOfSql('p.label')} AS category,
            o.amount, COALESCE(r.total, 0)::bigint AS refunded
     FROM scoring.orders o
     JOIN scoring.labels s ON s.code = o.source_code
     JOIN scoring.labels p ON p.code = o.channel_category_code
     LEFT JOIN LATERAL (
       SELECT sum(r.amount) AS total FROM scoring.refunds r
       WHERE r.member_id = o.member_id AND r.source_code = o.source_code AND r.order_id = o.order_id
     ) r ON true
     WHERE o.member_id = ANY($1::text[])`,
    [ids],
  );
  const totals = new Map<string, LedgerBucket>();
  let ordersChanged = 0;
  for (const order of orders.rows) {
    const next = orderContribution(rules.score, order);
    if (before) {
      const previous = before.get(order.member_id)?.score;
      const was =
        previous && weighs(previous, order.source, order.category) && orderContribution(previous, order);
      if (!was || was.points !== next.points || was.qualifies !== next.qualifies) ordersChanged += 1;
    }
    addToBucket(
      totals,
      { memberId: order.member_id, month: shanghaiMonth(order.occurred_at), source: order.source },
      next.points,
      Number(next.qualifies),
    );
  }

  const stored = await client.query<BucketRow>(
    `SELECT member_id, month, source, order_points, qualifying_orders FROM scoring.buckets
     WHERE member_id = ANY($1::text[])`,
    [ids],
  );
  const storedByKey = new Map(
    stored.rows.map((row) => [bucketKey(row.member_id, row.month, row.source), row]),
  );
  for (const row of stored.rows) {
    const k = bucketKey(row.member_id, row.month, row.source);
    if (!totals.has(k)) totals.set(k, { ...toLedgerBucket(row), orderPoints: 0, qualifyingOrders: 0 });
  }
  const changedBuckets: LedgerBucket[] = [];
  for (const [k, bucket] of totals) {
    // The fold writes no bucket for orders that add nothing (a missing bucket reads as zero).
    const before = storedByKey.get(k);
    if (
      (before?.order_points ?? 0) !== bucket.orderPoints ||
      (before?.qualifying_orders ?? 0) !== bucket.qualifyingOrders
    ) {
      changedBuckets.push(bucket);
    }
    const list = buckets.get(bucket.memberId) ?? [];
    list.push(scoredBucket(rules.score, bucket));
    buckets.set(bucket.memberId, list);
  }
  await writeBuckets(client, changedBuckets);
  return { buckets, ordersChanged, bucketsChanged: changedBuckets.length };
}

/**
 * A member's score from buckets recomputed under `rules` (`refoldMembers`), from the window start
 * `windowFrom`: the update to write (a new version when the breakdown changed) and whether it did.
 */
export function refoldedUpdate(
  row: MemberRow,
  buckets: readonly ScoredBucket[],
  context: { rules: RuleSet; windowFrom: string; next: Date },
): MemberUpdate & { changed: boolean } {
  const { rules, windowFrom } = context;
  const { score, breakdown } = scoreFromBuckets(rules.score, buckets, windowFrom);
  const changed = !sameBreakdown(breakdownOf(row, rules.score), breakdown);
  return {
    memberId: row.member_id,
    version: changed ? row.version + 1 : row.version,
    score,
    breakdown,
    windowFrom,
    outlook: outlookOf(buckets, windowFrom, context.next, rules),
    ruleVersion: rules.version,
    changed,
  };
}

/**
 * Recomputes every member's score from the ledger alone (orders and refunds) under the rule set in
 * force: month buckets, breakdowns (and counts the orders whose points change). Members whose
 * score changes get a new version and a score-changed record with reason `rebuild`. Chunked by
 * member id, one transaction per chunk, so it can be interrupted and run again; a second run
 * reports nothing changed.
 */
export async function rebuildScores(options: RebuildOptions): Promise<RebuildReport> {
  const { rules } = options;
  const report: RebuildReport = {
    ruleVersion: rules.version,
    membersScanned: 0,
    membersChanged: 0,
    ordersChanged: 0,
    bucketsChanged: 0,
    changes: [],
  };
  const log = options.logger.child({ component: 'rebuild', ruleVersion: rules.version });
  let after = '';
  for (;;) {
    const result = await withTransaction(options.pool, async (client) => {
      const members = await client.query<MemberRow>(
        `SELECT ${MEMBER_COLUMNS} FROM scoring.members WHERE member_id > $1 ORDER BY member_id LIMIT $2 FOR UPDATE`,
        [after, options.chunkSize],
      );
      if (members.rows.length === 0) return undefined;
      const ids = members.rows.map((m) => m.member_id);
      const now = options.now();
      const window = await readWindowState(client, now, rules);
      const versions = new Map<string, RuleSet | undefined>();
      for (const version of new Set(members.rows.map((m) => m.rule_version))) {
        versions.set(version, version === rules.version ? rules : await options.ruleSetOf(version));
      }
      const before = new Map(members.rows.map((m) => [m.member_id, versions.get(m.rule_version)]));
      const refolded = await refoldMembers(client, ids, rules, before);

      const updates: (MemberUpdate & { changed: boolean })[] = [];
      const records = [];
      const unversioned: string[] = [];
      for (const row of members.rows) {
        const update = refoldedUpdate(row, refolded.buckets.get(row.member_id) ?? [], {
          rules,
          windowFrom: row.window_from,
          next: window.nextEvaluationAt,
        });
        if (!update.changed && row.rule_version === rules.version) continue;
        updates.push(update);
        if (!update.changed) {
          unversioned.push(row.member_id);
          continue;
        }
        records.push(
          scoreChangedRecord(update, { previousScore: row.score, causeEventIds: [] }, 'rebuild', now, rules),
        );
      }
      await updateMembers(client, updates, { now, reason: 'rebuild' });
      await enqueueOutbox(
        client,
        'scoring',
        records.map((r) => ({ eventId: r.eventId, topic: 'scoreChanged', key: r.memberId, payload: r })),
      );
      return {
        last: ids.at(-1) as string,
        scanned: ids.length,
        ordersChanged: refolded.ordersChanged,
        bucketsChanged: refolded.bucketsChanged,
        changes: records.map((r) => ({
          memberId: r.memberId,
          previousScore: r.previousScore,
          score: r.score,
        })),
        unversioned,
      };
    });
    if (!result) break;
    after = result.last;
    report.membersScanned += result.scanned;
    report.membersChanged += result.changes.length;
    report.ordersChanged += result.ordersChanged;
    report.bucketsChanged += result.bucketsChanged;
    report.changes.push(...result.changes.slice(0, 100 - report.changes.length));
    if (result.unversioned.length > 0) await options.onUnversionedChange?.(result.unversioned);
  }
  log.info({ ...report, changes: report.changes.length }, 'rebuild finished');
  return report;
}
