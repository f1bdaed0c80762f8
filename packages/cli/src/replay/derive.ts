import { benefitsAt, type Catalogue, minTierOf } from '@taobi/benefits';
import {
  type ConsumptionEvent,
  consumptionEventId,
  consumptionEventSchema,
  type ScoreBreakdown,
  type Tier,
  type TierDecision,
  tierRank,
} from '@taobi/contracts';
import {
  applyScoreUpdate,
  currentScore,
  emptyBreakdown,
  evaluateMember,
  explainTierChange,
  foldBuckets,
  type MemberTier,
  orderContribution,
  pointsByMonth,
  type RuleSet,
  type RuleSetVersion,
  ruleSetInForce,
  type ScoreEvent,
  scoreOfBreakdown,
  shanghaiDayStart,
  sourceFieldsProblem,
  unseenMember,
} from '@taobi/rules';
import type { LogRecord } from './log';

/**
 * Replay of one member, as pure functions: what the log says their scores, tier decisions and
 * status benefits are, compared with what scoring, tier and entitlement answer (README, "Replay
 * from the log"). Every difference is one line naming what differs, where and both values.
 */

/** The most a consumption event may be dated after its receipt before scoring refuses it. */
const MAX_FUTURE_SKEW_MS = 24 * 3600_000;

/** A version of the member's score as scoring stores it (`GET /v1/members/:id/score/versions`). */
export interface StoredScoreVersion {
  version: number;
  score: number;
  breakdown: ScoreBreakdown;
  windowFrom: string;
  ruleVersion: string;
  reason: string;
  committedAt: string;
  expiringAtNextEvaluation: { points: number; evaluationAt: string } | null;
  logPosition: { partition: number; firstOffset: string; lastOffset: string } | null;
}

/** A decision as tier keeps it (`GET /v1/members/:id/tier/history`). */
export type StoredDecision = TierDecision & { decidedAt?: string };

/** A tier evaluation (`GET /v1/admin/evaluations` on tier). */
export interface TierEvaluation {
  asOf: string;
  startedAt: string;
  completedAt: string | null;
}

export interface ReplayInput {
  memberId: string;
  /** Scoring's registry, oldest first, with validity. */
  registry: RuleSetVersion[];
  /** The member's records on the consumption topic, in offset order. */
  log: LogRecord[];
  /** Records older than this were deleted by retention (null: the partition is complete). */
  logStart: Date | null;
  scoring: {
    versions: StoredScoreVersion[];
    current: {
      score: number;
      breakdown: ScoreBreakdown;
      version: number;
      ruleVersion: string;
      windowFrom: string;
    };
    /** The ledger's orders of the member (`/score/history` contributions). */
    contributions: {
      orderId: string;
      source: string;
      points: number;
      qualifiesForFrequency: boolean;
      refunded: number;
    }[];
  };
  tier: {
    decisions: StoredDecision[];
    current: { tier: Tier; score: number; scoreVersion: number };
    evaluations: TierEvaluation[];
    /** Tier's `CLAWBACK_DAYS` (`GET /v1/tiers`): how long after an upgrade a refund takes it back. */
    clawbackDays: number;
  };
  entitlement?: {
    tier: Tier;
    grants: { benefitId: string; kind: string; status: string }[];
    catalogue: Catalogue;
  };
}

export interface ReplayResult {
  memberId: string;
  differences: string[];
  /** What was compared: records read, versions, decisions; and what could not be (`skipped`). */
  checked: { records: number; versions: number; decisions: number };
  skipped: string[];
}

const offsetOf = (value: string) => BigInt(value);

/** The log's records scoring would have folded: valid, with the deterministic id, of known sources. */
export function acceptedEvents(
  log: readonly LogRecord[],
  registry: readonly RuleSetVersion[],
): (ConsumptionEvent & { offset: bigint; partition: number })[] {
  return log.flatMap((record) => {
    const parsed = consumptionEventSchema.safeParse(record.value);
    if (!parsed.success) return [];
    const event = parsed.data;
    const externalId = event.kind === 'completed' ? event.orderId : event.refundId;
    if (event.eventId !== consumptionEventId(event.source, event.kind, externalId)) return [];
    const receivedAt = new Date(event.receivedAt);
    if (Date.parse(event.occurredAt) > receivedAt.getTime() + MAX_FUTURE_SKEW_MS) return [];
    if (sourceFieldsProblem(ruleSetInForce(registry, receivedAt).ruleSet, event)) return [];
    return [{ ...event, offset: offsetOf(record.offset), partition: record.partition }];
  });
}

/** Score, breakdown and points per month of the member from `events` under `rules`. */
function scoreFromLog(rules: RuleSet, events: readonly ScoreEvent[], windowFrom: string) {
  const { buckets } = foldBuckets(rules.score, events);
  const breakdown = emptyBreakdown(rules.score);
  for (const bucket of buckets) {
    if (bucket.month >= windowFrom)
      breakdown[bucket.source] = (breakdown[bucket.source] ?? 0) + bucket.points;
  }
  return { score: scoreOfBreakdown(breakdown), breakdown, months: pointsByMonth(buckets, windowFrom) };
}

/** The sources with points, as `a 12, b 3` (the base first), to print a breakdown. */
function describeBreakdown(breakdown: ScoreBreakdown): string {
  return Object.entries(breakdown)
    .filter(([key, points]) => key === 'base' || points !== 0)
    .map(([key, points]) => `${key} ${points}`)
    .join(', ');
}

function sameBreakdown(a: ScoreBreakdown, b: ScoreBreakdown): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => (a[key] ?? 0) === (b[key] ?? 0));
}

const decisionFields = [
  'at',
  'from',
  'to',
  'direction',
  'reason',
  'score',
  'scoreVersion',
  'threshold',
  'ruleVersion',
  'evaluationAsOf',
  'windowFrom',
  'windowTo',
  'expiredMonths',
] as const satisfies readonly (keyof TierDecision)[];

function describeDecision(d: TierDecision): string {
  const evaluation = d.evaluationAsOf ? ` at the evaluation of ${d.evaluationAsOf}` : '';
  return `${d.from ?? 'none'} -> ${d.to} (${d.reason}, score ${d.score} v${d.scoreVersion}${evaluation})`;
}

/** Replays one member and compares (see the module comment). */
export function checkMemberAgainstLog(input: ReplayInput): ReplayResult {
  const differences: string[] = [];
  const skipped: string[] = [];
  const byName = new Map(input.registry.map((v) => [v.ruleSet.version, v.ruleSet]));
  const events = acceptedEvents(input.log, input.registry);
  const versions = [...input.scoring.versions].sort((a, b) => a.version - b.version);
  // A version is checked only when every record its window counts is still on the topic.
  const covered = (windowFrom: string) =>
    input.logStart === null || shanghaiDayStart(windowFrom, 1).getTime() >= input.logStart.getTime();

  // 1. Every stored score version, from the records folded by then.
  // What the log gives for each version: the tier decisions are re-derived from these, not from
  // what scoring stores (a tampered score version shows once, as itself).
  const fromLog = new Map<number, ReturnType<typeof scoreFromLog>>();
  let checkedVersions = 0;
  versions.forEach((stored, index) => {
    const label = `score version ${stored.version} (${stored.reason}, ${stored.committedAt})`;
    if (stored.reason === 'migrated') {
      skipped.push(`${label}: written before score versions were kept`);
      return;
    }
    const rules = byName.get(stored.ruleVersion);
    if (!rules) {
      differences.push(`${label}: rule version ${stored.ruleVersion} is not in scoring's registry`);
      return;
    }
    const inForce = ruleSetInForce(input.registry, new Date(stored.committedAt)).ruleSet.version;
    if (inForce !== stored.ruleVersion) {
      differences.push(
        `${label}: stored under rule set ${stored.ruleVersion}, but ${inForce} was in force then`,
      );
    }
    const position = stored.logPosition;
    const next = versions.slice(index + 1).find((v) => v.logPosition !== null)?.logPosition ?? null;
    const folded = events.filter((e) =>
      position
        ? e.partition === position.partition && e.offset <= offsetOf(position.lastOffset)
        : next === null || e.offset < offsetOf(next.firstOffset),
    );
    const expected = scoreFromLog(rules, folded, stored.windowFrom);
    if (!covered(stored.windowFrom)) {
      skipped.push(`${label}: counts records older than the topic keeps`);
      return;
    }
    fromLog.set(stored.version, expected);
    checkedVersions += 1;
    if (expected.score !== stored.score || !sameBreakdown(expected.breakdown, stored.breakdown)) {
      differences.push(
        `${label}: scoring stores ${stored.score} (${describeBreakdown(stored.breakdown)}), the log gives ${expected.score} (${describeBreakdown(expected.breakdown)})`,
      );
    }
  });

  // 2. The current score and the ledger's orders.
  const current = input.scoring.current;
  const currentRules = byName.get(current.ruleVersion);
  if (!currentRules) {
    differences.push(`current score: rule version ${current.ruleVersion} is not in scoring's registry`);
  } else if (covered(current.windowFrom)) {
    const expected = scoreFromLog(currentRules, events, current.windowFrom);
    if (expected.score !== current.score || !sameBreakdown(expected.breakdown, current.breakdown)) {
      differences.push(
        `current score: scoring answers ${current.score} (${describeBreakdown(current.breakdown)}), the log gives ${expected.score} (${describeBreakdown(expected.breakdown)})`,
      );
    }
    const lastVersion = versions.at(-1)?.version ?? 0;
    if (current.version !== lastVersion) {
      differences.push(
        `current score: version ${current.version}, but the last stored version is ${lastVersion}`,
      );
    }
    const refunds = new Map<string, number>();
    for (const e of events) {
      if (e.kind !== 'refunded') continue;
      const key = `${e.source}/${e.orderId}`;
      refunds.set(key, (refunds.get(key) ?? 0) + e.amount);
    }
    const logOrders = new Map<string, ConsumptionEvent>();
    for (const e of events) {
      if (e.kind === 'completed' && !logOrders.has(`${e.source}/${e.orderId}`))
        logOrders.set(`${e.source}/${e.orderId}`, e);
    }
    const ledger = new Set<string>();
    for (const c of input.scoring.contributions) {
      const key = `${c.source}/${c.orderId}`;
      ledger.add(key);
      const order = logOrders.get(key);
      if (order?.kind !== 'completed') {
        if (input.logStart === null) differences.push(`order ${key}: in scoring's ledger, not in the log`);
        continue;
      }
      const expected = orderContribution(currentRules.score, {
        source: order.source,
        category: order.category,
        amount: order.amount,
        refunded: refunds.get(key) ?? 0,
      });
      if (expected.points !== c.points || expected.qualifies !== c.qualifiesForFrequency) {
        differences.push(
          `order ${key}: scoring credits ${c.points} points (frequency ${c.qualifiesForFrequency}), the log gives ${expected.points} (frequency ${expected.qualifies})`,
        );
      }
    }
    for (const key of logOrders.keys()) {
      if (!ledger.has(key)) differences.push(`order ${key}: in the log, not in scoring's ledger`);
    }
  } else {
    skipped.push('current score: counts records older than the topic keeps');
  }

  // 3. Tier decisions, re-derived from the score versions and the recorded evaluations.
  const derived: TierDecision[] = [];
  let state: MemberTier | undefined;
  if (versions[0]?.reason === 'migrated') {
    skipped.push('tier decisions: the history before score versions were kept is not known');
  } else {
    type Step = { at: number; version?: StoredScoreVersion; evaluation?: TierEvaluation };
    const steps: Step[] = [
      ...versions.map((version): Step => ({ at: Date.parse(version.committedAt), version })),
      ...input.tier.evaluations.map(
        (evaluation): Step => ({ at: Date.parse(evaluation.startedAt), evaluation }),
      ),
    ].sort((a, b) => a.at - b.at || (a.version ? -1 : 1));
    const firstSeen = new Map<string, bigint>();
    for (const e of events) if (!firstSeen.has(e.eventId)) firstSeen.set(e.eventId, e.offset);
    const latest = (pick: (e: TierEvaluation) => string | null, at: number) =>
      input.tier.evaluations
        .filter((e) => {
          const when = pick(e);
          return when !== null && Date.parse(when) <= at;
        })
        .map((e) => e.asOf)
        .sort((a, b) => Date.parse(a) - Date.parse(b))
        .at(-1) ?? null;
    for (const step of steps) {
      if (step.version) {
        const v = step.version;
        const rules = byName.get(v.ruleVersion);
        if (!rules) continue;
        const before: MemberTier = state ?? {
          ...unseenMember(input.memberId, rules.score.baseScore, v.committedAt),
          lastEvaluationAsOf: latest((e) => e.completedAt, step.at),
        };
        // The refunds first folded in the version's batch: what made the record a refund's.
        const batch = v.logPosition;
        const refundEventIds = batch
          ? events
              .filter(
                (e) =>
                  e.kind === 'refunded' &&
                  e.offset >= offsetOf(batch.firstOffset) &&
                  e.offset <= offsetOf(batch.lastOffset) &&
                  firstSeen.get(e.eventId) === e.offset,
              )
              .map((e) => e.eventId)
          : [];
        const outcome = applyScoreUpdate(
          before,
          {
            refundEventIds,
            version: v.version,
            score: fromLog.get(v.version)?.score ?? v.score,
            occurredAt: v.committedAt,
            expiringAtNextEvaluation: v.expiringAtNextEvaluation ?? {
              points: 0,
              evaluationAt: v.committedAt,
            },
            pointsByMonth: fromLog.get(v.version)?.months,
            reason: v.reason,
            window: { from: v.windowFrom, to: v.windowFrom },
          },
          rules.tiers,
          latest((e) => e.startedAt, step.at),
          input.tier.clawbackDays,
        );
        state = outcome.state;
        if (outcome.applied && outcome.change) derived.push(explainTierChange(outcome.change, before, rules));
      } else if (step.evaluation && state) {
        const rules = ruleSetInForce(input.registry, new Date(step.evaluation.asOf)).ruleSet;
        const before = state;
        const outcome = evaluateMember(before, step.evaluation.asOf, rules.tiers);
        state = outcome.state;
        if (outcome.evaluated && outcome.change)
          derived.push(explainTierChange(outcome.change, before, rules));
      }
    }
    const stored = [...input.tier.decisions].reverse();
    const count = Math.max(stored.length, derived.length);
    for (let i = 0; i < count; i += 1) {
      const kept = stored[i];
      const replayed = derived[i];
      if (!kept || !replayed) {
        differences.push(
          kept
            ? `tier decision ${i + 1}: tier keeps ${describeDecision(kept)}, the replay derives none`
            : `tier decision ${i + 1}: the replay derives ${describeDecision(replayed as TierDecision)}, tier keeps none`,
        );
        continue;
      }
      const differing = decisionFields.filter(
        (field) => JSON.stringify(normalise(kept[field])) !== JSON.stringify(normalise(replayed[field])),
      );
      if (differing.length > 0) {
        differences.push(
          `tier decision ${i + 1} (${describeDecision(kept)}): ${differing
            .map(
              (field) =>
                `${field} stored ${JSON.stringify(kept[field])}, replayed ${JSON.stringify(replayed[field])}`,
            )
            .join('; ')}`,
        );
      }
    }
    const tier = state?.tier ?? 'BRONZE';
    const score = state
      ? currentScore(state)
      : (byName.get(current.ruleVersion)?.score.baseScore ?? current.score);
    if (input.tier.current.tier !== tier || input.tier.current.score !== score) {
      differences.push(
        `current tier: tier answers ${input.tier.current.tier} at ${input.tier.current.score}, the replay gives ${tier} at ${score}`,
      );
    }
  }

  // 4. The status benefits the policy grants at the tier the decisions lead to.
  if (input.entitlement) {
    const tier = derived.at(-1)?.to ?? 'BRONZE';
    const { catalogue, grants } = input.entitlement;
    if (input.entitlement.tier !== tier) {
      differences.push(
        `entitlement: holds the member at ${input.entitlement.tier}, the decisions lead to ${tier}`,
      );
    }
    const held = new Set(
      grants
        .filter((g) => g.kind === 'status' && (g.status === 'granted' || g.status === 'used'))
        .map((g) => g.benefitId),
    );
    const live = new Set(
      grants.filter((g) => g.kind === 'status' && g.status === 'granted').map((g) => g.benefitId),
    );
    const due = benefitsAt(catalogue, tier).filter((b) => b.kind === 'status');
    for (const benefit of due) {
      if (!held.has(benefit.id))
        differences.push(`entitlement: status benefit ${benefit.id} of ${tier} is not held`);
    }
    for (const benefit of catalogue.benefits) {
      // 88VIP bundle benefits (no tier audience) follow the 88VIP term, not the tier: not compared.
      const minTier = minTierOf(benefit);
      if (
        benefit.kind === 'status' &&
        minTier &&
        tierRank(minTier) > tierRank(tier) &&
        live.has(benefit.id)
      ) {
        differences.push(`entitlement: status benefit ${benefit.id} (${minTier}) is still held at ${tier}`);
      }
    }
  }

  return {
    memberId: input.memberId,
    differences,
    checked: { records: input.log.length, versions: checkedVersions, decisions: input.tier.decisions.length },
    skipped,
  };
}

/** Instants compared as instants (an offset or milliseconds written differently are the same). */
function normalise(value: unknown): unknown {
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) return new Date(value).toISOString();
  return value;
}
