import type { Category, ScoreBreakdown, Source, Tier } from '@taobi/contracts';
import { lastEvaluationAt, type Month, nextEvaluationAt, shanghaiMonth } from './calendar';
import type { RuleSet } from './rule-set';
import { bucketPoints, emptyBreakdown, sameBreakdown, scoreFromBuckets, scoreOfBreakdown } from './score';
import { bucketKey, type LedgerBucket, type LedgerMember, type LedgerOrder, planBatch } from './score-batch';
import { windowStartAfter } from './score-window';
import { applyScoreUpdate, evaluateMember, type MemberTier, type TierRules, unseenMember } from './tiers';

/** One ledger row of a member, as the replay reads it. */
export interface ReplayEvent {
  kind: 'completed' | 'refunded';
  source: Source;
  orderId: string;
  /** Orders only. */
  category?: Category | undefined;
  /** Integer fen. */
  amount: number;
  /** `occurredAt` in epoch milliseconds. */
  at: number;
  /** The Asia/Shanghai month of `at`; computed when absent. */
  month?: Month | undefined;
}

export interface ReplayOptions {
  /**
   * The tier service's `CLAWBACK_DAYS`: a refund within this many days of the member's last
   * placement or upgrade that takes the score below the tier takes the tier back at once
   * (`applyScoreUpdate`). 0: never.
   */
  clawbackDays?: number;
}

export interface ReplayOutcome {
  score: number;
  breakdown: ScoreBreakdown;
  tier: Tier;
  /** The last evaluation the replay applied (null: none fell between the first event and the horizon). */
  lastEvaluationAt: Date | null;
}

const orderKey = (source: Source, orderId: string) => `${source}\u0000${orderId}`;

/** True when the rule set still scores this source and category (an order it does not is ignored). */
function scored(rules: RuleSet, source: Source, category: Category | undefined): boolean {
  const sources = rules.score.sources;
  if (category === undefined || !Object.hasOwn(sources, source)) return false;
  return Object.hasOwn((sources[source] as { categories: object }).categories, category);
}

/**
 * One member's history replayed in business time under `rules`, with the pure rules the services
 * run: the score fold (`planBatch`, as scoring folds a batch), the monthly evaluations on the rule
 * set's day (the window moves, `evaluateMember` downgrades) and the tier policy (`applyScoreUpdate`:
 * upgrades at once, downgrades pending until an evaluation, or at once when a refund takes back a
 * placement or upgrade of the last `clawbackDays`). Nothing here reads a clock.
 *
 * - Events are taken in `occurredAt` order; events at the same instant are one score change (as
 *   one batch of the live fold would make them).
 * - Every evaluation of the rule set's calendar after the member's first event and at or before
 *   the last one due at `horizon` is applied, before any event at the same instant. A member's
 *   window starts where the last evaluation before their first event put it.
 * - An order of a source or category the rule set does not score is ignored, with its refunds (the
 *   live fold dead-letters such events).
 *
 * So with the rule set in force and a horizon at an evaluation the services have run, the outcome
 * is the member's live score and tier once that evaluation is applied (docs/design.md, "Backtests").
 */
export function replayMember(
  rules: RuleSet,
  memberId: string,
  events: readonly ReplayEvent[],
  horizon: Date,
  options: ReplayOptions = {},
): ReplayOutcome {
  const { tiers, ...outcome } = replayMemberUnderTiers(
    rules,
    [rules.tiers],
    memberId,
    events,
    horizon,
    options,
  );
  return { ...outcome, tier: tiers[0] as Tier };
}

/**
 * `replayMember` with several tier policies over one score history: one fold of the score and the
 * evaluations (`rules`), and the member's tier under each of `tierRules`, in that order. A rule
 * change that only touches the tiers costs one fold, not two.
 */
export function replayMemberUnderTiers(
  rules: RuleSet,
  tierRules: readonly TierRules[],
  memberId: string,
  events: readonly ReplayEvent[],
  horizon: Date,
  options: ReplayOptions = {},
): Omit<ReplayOutcome, 'tier'> & { tiers: Tier[] } {
  const clawbackDays = options.clawbackDays ?? 0;
  const day = rules.evaluation.dayOfMonth;
  const sorted = [...events].sort((a, b) => a.at - b.at);
  const first = sorted[0];
  if (!first) {
    return {
      score: rules.score.baseScore,
      breakdown: emptyBreakdown(rules.score),
      tiers: tierRules.map((): Tier => 'BRONZE'),
      lastEvaluationAt: null,
    };
  }
  const finalEvaluation = lastEvaluationAt(horizon, day).getTime();
  const iso = (at: number) => new Date(at).toISOString();
  // The next evaluation's instant as the tier policy reads it, built once per evaluation.
  let nextEvaluationIso = '';
  let nextEvaluationIsoOf = Number.NaN;
  const nextEvaluationText = () => {
    if (nextEvaluationIsoOf !== nextEvaluation) {
      nextEvaluationIso = iso(nextEvaluation);
      nextEvaluationIsoOf = nextEvaluation;
    }
    return nextEvaluationIso;
  };

  const orders = new Map<string, LedgerOrder>();
  const held = new Map<string, number>();
  const buckets = new Map<string, LedgerBucket>();
  const member: LedgerMember = {
    memberId,
    windowFrom: windowStartAfter(lastEvaluationAt(new Date(first.at), day), rules.evaluation),
    breakdown: emptyBreakdown(rules.score),
    version: 0,
  };
  const states: MemberTier[] = tierRules.map(() =>
    unseenMember(memberId, rules.score.baseScore, iso(first.at)),
  );
  let nextEvaluation = nextEvaluationAt(new Date(first.at), day).getTime();
  let lastApplied: number | null = null;

  /** A score change of the member: through each tier policy, as a score-changed record would be. */
  function scoreChanged(occurredAt: number, refunds: readonly string[] = []): void {
    const update = {
      version: member.version,
      score: scoreOfBreakdown(member.breakdown),
      occurredAt: iso(occurredAt),
      expiringAtNextEvaluation: { points: 0, evaluationAt: nextEvaluationText() },
      refundEventIds: refunds,
    };
    for (let i = 0; i < states.length; i += 1) {
      const state = states[i] as MemberTier;
      states[i] = applyScoreUpdate(state, update, tierRules[i] as TierRules, null, clawbackDays).state;
    }
  }

  function applyEvents(group: readonly ReplayEvent[], at: number): void {
    const touched = new Map<string, LedgerOrder>();
    // The refunds among the change's causes, as the score-changed record names them.
    const refunds: string[] = [];
    for (const event of group) {
      const key = orderKey(event.source, event.orderId);
      if (event.kind === 'completed') {
        if (!scored(rules, event.source, event.category)) continue;
        const order: LedgerOrder = {
          source: event.source,
          orderId: event.orderId,
          memberId,
          month: event.month ?? shanghaiMonth(new Date(event.at)),
          category: event.category as Category,
          amount: event.amount,
          points: 0,
          qualifies: false,
          refunded: held.get(key) ?? 0,
        };
        held.delete(key);
        orders.set(key, order);
        touched.set(key, order);
        continue;
      }
      refunds.push(key);
      const order = touched.get(key) ?? orders.get(key);
      if (order) touched.set(key, { ...order, refunded: order.refunded + event.amount });
      else held.set(key, (held.get(key) ?? 0) + event.amount);
    }
    if (touched.size === 0) return;
    const list = [...touched.values()];
    const plan = planBatch(rules.score, {
      orders: list,
      buckets: list
        .map((o) => buckets.get(bucketKey(memberId, o.month, o.source)))
        .filter((b): b is LedgerBucket => b !== undefined),
      members: [member],
    });
    for (const order of plan.orders) orders.set(orderKey(order.source, order.orderId), order);
    for (const bucket of plan.buckets) buckets.set(bucketKey(memberId, bucket.month, bucket.source), bucket);
    const outcome = plan.members[0];
    if (!outcome?.changed) return;
    member.breakdown = outcome.breakdown;
    member.version = outcome.version;
    scoreChanged(at, refunds);
  }

  /** The monthly evaluation at `at`: tier decides on the forecast, then scoring moves the window. */
  function evaluate(at: number): void {
    const windowFrom = windowStartAfter(new Date(at), rules.evaluation);
    let kept = member.breakdown;
    if (windowFrom > member.windowFrom) {
      const counted = [...buckets.values()].map((b) => ({
        month: b.month,
        source: b.source,
        points: bucketPoints(rules.score, b.source, b).points,
      }));
      kept = scoreFromBuckets(rules.score, counted, windowFrom).breakdown;
      member.windowFrom = windowFrom;
    }
    const expiring = {
      points: scoreOfBreakdown(member.breakdown) - scoreOfBreakdown(kept),
      evaluationAt: nextEvaluationIsoOf === at ? nextEvaluationIso : iso(at),
    };
    for (let i = 0; i < states.length; i += 1) {
      const state = { ...(states[i] as MemberTier), expiring };
      states[i] = evaluateMember(state, expiring.evaluationAt, tierRules[i] as TierRules).state;
    }
    lastApplied = at;
    if (sameBreakdown(member.breakdown, kept)) return;
    member.breakdown = kept;
    member.version += 1;
    scoreChanged(at);
  }

  let i = 0;
  while (i < sorted.length || nextEvaluation <= finalEvaluation) {
    const eventAt = sorted[i]?.at ?? Number.POSITIVE_INFINITY;
    if (nextEvaluation <= finalEvaluation && nextEvaluation <= eventAt) {
      const at = nextEvaluation;
      nextEvaluation = nextEvaluationAt(new Date(at), day).getTime();
      evaluate(at);
      continue;
    }
    let j = i;
    while (j < sorted.length && sorted[j]?.at === eventAt) j += 1;
    applyEvents(sorted.slice(i, j), eventAt);
    i = j;
  }
  return {
    score: scoreOfBreakdown(member.breakdown),
    breakdown: member.breakdown,
    tiers: states.map((state) => state.tier),
    lastEvaluationAt: lastApplied === null ? null : new Date(lastApplied),
  };
}
