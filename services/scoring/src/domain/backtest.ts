import {
  benefitUnitCost,
  type Catalogue,
  catalogueSchema,
  grantedOnTierChange,
  holdersByBenefit,
} from '@taobi/benefits';
import {
  type BacktestReport,
  type BacktestSample,
  type BacktestSide,
  isoTimeSchema,
  type LiabilityLine,
  type MemberStanding,
  TIERS,
  type Tier,
  type TierCounts,
  tierRank,
} from '@taobi/contracts';
import { type FieldError, fieldErrorsFromZod } from '@taobi/platform';
import {
  type ReplayEvent,
  type ReplayOptions,
  type RuleSet,
  replayMember,
  replayMemberUnderTiers,
  ruleSetSchema,
} from '@taobi/rules';
import { z } from 'zod';

/**
 * Backtests (docs/design.md, "Backtests"): a candidate rule set (and catalogue) replayed over the
 * whole ledger beside the rule set in force, compared member by member. This module is the pure
 * part: the request, the running tally and the report. The engine is `replayMember`
 * (@taobi/rules); the job that feeds it the ledger is `jobs/backtests.ts`.
 */

/** The most a backtest looks ahead: asOf at most this far past the clock (the evaluations it applies are bounded). */
const MAX_AHEAD_MS = 366 * 24 * 3600_000;

const objectSchema = z.record(z.string(), z.unknown());

export const backtestBodySchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  /** A full rule set, or a partial one deep-merged over the rule set in force. */
  ruleSet: objectSchema,
  /** A full benefit catalogue for the candidate (default: the one in force). */
  catalogue: objectSchema.optional(),
  asOf: isoTimeSchema.optional(),
});

export interface BacktestRequest {
  name: string;
  candidate: RuleSet;
  catalogue: Catalogue | undefined;
  asOf: Date;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `overlay` over `base`: objects merge key by key; anything else (arrays included) replaces. */
export function deepMerge(base: unknown, overlay: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(overlay)) return overlay === undefined ? base : overlay;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overlay)) merged[key] = deepMerge(base[key], value);
  return merged;
}

/**
 * The candidate rule set of a request: the given object as it is when it is a whole rule set,
 * else deep-merged over the rule set in force (an overlay without a version gets the version in
 * force suffixed `-what-if`). Either way it must pass the live rule data's schema; the errors
 * name each bad field under `ruleSet.`.
 */
export function candidateRuleSet(raw: Record<string, unknown>, inForce: RuleSet): RuleSet | FieldError[] {
  const whole = ruleSetSchema.safeParse(raw);
  if (whole.success) return whole.data;
  const merged = deepMerge(inForce, raw) as Record<string, unknown>;
  if (!Object.hasOwn(raw, 'version')) merged.version = `${inForce.version}-what-if`.slice(0, 32);
  const result = ruleSetSchema.safeParse(merged);
  return result.success ? result.data : fieldErrorsFromZod(result.error.issues, ['ruleSet']);
}

/**
 * Validates a POST body against the rule set in force (`inForce` of the asOf asked for). Every part
 * is checked whatever the others hold, so one answer names every bad field.
 */
export async function parseBacktestRequest(
  body: unknown,
  context: { now: Date; inForce: (asOf: Date) => Promise<RuleSet> },
): Promise<BacktestRequest | FieldError[]> {
  const parsed = backtestBodySchema.safeParse(body ?? {});
  const errors: FieldError[] = parsed.success ? [] : fieldErrorsFromZod(parsed.error.issues);
  const raw = isPlainObject(body) ? body : {};
  const asOfText = isoTimeSchema.safeParse(raw.asOf);
  const asOf = asOfText.success ? new Date(asOfText.data) : context.now;
  if (asOf.getTime() > context.now.getTime() + MAX_AHEAD_MS) {
    errors.push({ field: 'asOf', message: 'must be at most a year ahead' });
  }
  const candidate = isPlainObject(raw.ruleSet)
    ? candidateRuleSet(raw.ruleSet, await context.inForce(asOf))
    : undefined;
  if (Array.isArray(candidate)) errors.push(...candidate);
  let catalogue: Catalogue | undefined;
  if (isPlainObject(raw.catalogue)) {
    const result = catalogueSchema.safeParse(raw.catalogue);
    if (result.success) catalogue = result.data;
    else errors.push(...fieldErrorsFromZod(result.error.issues, ['catalogue']));
  }
  if (!parsed.success || errors.length > 0 || candidate === undefined || Array.isArray(candidate)) {
    return errors;
  }
  return { name: parsed.data.name, candidate, catalogue, asOf };
}

export type { BacktestReport, BacktestSample, BacktestSide, LiabilityLine, MemberStanding, TierCounts };

/** What a backtest has counted so far: small, kept with the backtest so a restart resumes it. */
export interface BacktestTally {
  members: number;
  /** Ledger rows (orders and refunds) folded. */
  events: number;
  baseline: TierCounts;
  candidate: TierCounts;
  moves: BacktestReport['moves'];
  samples: BacktestSample[];
}

/** Members listed in `samples`: the first whose tier moves, in member id order. */
export const SAMPLE_LIMIT = 20;

const noMembers = (): TierCounts => Object.fromEntries(TIERS.map((tier) => [tier, 0])) as TierCounts;

export function emptyTally(): BacktestTally {
  return {
    members: 0,
    events: 0,
    baseline: noMembers(),
    candidate: noMembers(),
    moves: { up: 0, down: 0, byPair: {} },
    samples: [],
  };
}

/**
 * How a member stands under the rule set in force and under the candidate. When the two differ in
 * their tiers only, the score is folded once and both tier policies read it.
 */
export function memberComparison(baseline: RuleSet, candidate: RuleSet, options: ReplayOptions) {
  const sameScore =
    JSON.stringify([baseline.score, baseline.evaluation]) ===
    JSON.stringify([candidate.score, candidate.evaluation]);
  return (
    memberId: string,
    events: readonly ReplayEvent[],
    horizon: Date,
  ): { before: MemberStanding; after: MemberStanding } => {
    if (!sameScore) {
      return {
        before: replayMember(baseline, memberId, events, horizon, options),
        after: replayMember(candidate, memberId, events, horizon, options),
      };
    }
    const tiers = [baseline.tiers, candidate.tiers];
    const outcome = replayMemberUnderTiers(baseline, tiers, memberId, events, horizon, options);
    return {
      before: { score: outcome.score, tier: outcome.tiers[0] as Tier },
      after: { score: outcome.score, tier: outcome.tiers[1] as Tier },
    };
  };
}

/** Counts one member (in place): their tier under each rule set, and the move between them. */
export function countMember(
  tally: BacktestTally,
  memberId: string,
  before: MemberStanding,
  after: MemberStanding,
  events: number,
): void {
  tally.members += 1;
  tally.events += events;
  tally.baseline[before.tier] += 1;
  tally.candidate[after.tier] += 1;
  if (before.tier === after.tier) return;
  if (tierRank(after.tier) > tierRank(before.tier)) tally.moves.up += 1;
  else tally.moves.down += 1;
  const pair = `${before.tier}->${after.tier}`;
  tally.moves.byPair[pair] = (tally.moves.byPair[pair] ?? 0) + 1;
  if (tally.samples.length < SAMPLE_LIMIT) {
    tally.samples.push({
      memberId,
      before: { score: before.score, tier: before.tier },
      after: { score: after.score, tier: after.tier },
    });
  }
}

interface SideInput {
  rules: RuleSet;
  catalogue: Catalogue;
  evaluationAt: Date;
}

function side(input: SideInput, tiers: TierCounts): BacktestSide {
  return {
    ruleVersion: input.rules.version,
    catalogueVersion: input.catalogue.version,
    evaluationAt: input.evaluationAt.toISOString(),
    tiers: { ...tiers },
    ...holdersByBenefit(input.catalogue, tiers),
  };
}

/**
 * What each granted benefit costs under each side: holders times the unit cost where both
 * catalogues cost it, else the holders themselves. Benefits nothing is granted for (offers, the
 * lottery) are left out; a benefit only one catalogue has counts 0 on the other side.
 */
function liability(before: BacktestSide, after: BacktestSide, catalogues: [Catalogue, Catalogue]) {
  const lines: Record<string, LiabilityLine> = {};
  const ids = new Set(catalogues.flatMap((c) => c.benefits.filter(grantedOnTierChange).map((b) => b.id)));
  for (const id of ids) {
    const costs = catalogues.map((c) => {
      const benefit = c.benefits.find((b) => b.id === id);
      return benefit ? benefitUnitCost(benefit) : null;
    });
    const holdersBefore = before.benefits[id] ?? 0;
    const holdersAfter = after.benefits[id] ?? 0;
    const [costBefore, costAfter] = costs;
    if (costs.includes(undefined)) {
      lines[id] = { before: holdersBefore, after: holdersAfter, unit: 'grants' };
      continue;
    }
    lines[id] = {
      before: holdersBefore * (costBefore ?? 0),
      after: holdersAfter * (costAfter ?? 0),
      unitCost: (costAfter ?? costBefore) as number,
      unit: 'fen',
    };
  }
  return lines;
}

/** The comparison a backtest answers, from its tally. */
export function backtestReport(
  tally: BacktestTally,
  baseline: SideInput,
  candidate: SideInput,
): BacktestReport {
  const before = side(baseline, tally.baseline);
  const after = side(candidate, tally.candidate);
  return {
    baseline: before,
    candidate: after,
    moves: tally.moves,
    liability: liability(before, after, [baseline.catalogue, candidate.catalogue]),
    samples: tally.samples,
  };
}
