import { nextEvaluationAt } from './calendar';
import type { RuleSet } from './rule-set';

/**
 * Rule sets with a validity: the registry scoring keeps (docs/adr/0006). Each version is in force
 * from its `effectiveFrom` (an evaluation instant, except the first: the programme's start, and a
 * version deployed by `RULE_SET_FILE`: its first boot) until the next version's. Pure, so scoring,
 * tier, the forecast and replay all answer "which rule set was in force at T" the same way.
 */
export interface RuleSetVersion {
  ruleSet: RuleSet;
  effectiveFrom: Date;
  /** The next version's `effectiveFrom`; null for the latest. */
  effectiveTo: Date | null;
  /** When it was registered (configured at a boot, or adopted through the admin API). */
  adoptedAt: Date;
  /** `configured` (a `RULE_SET_FILE` seen at boot) or `adopted` (`POST /v1/admin/rule-sets`). */
  origin: 'configured' | 'adopted';
  /** The backtest that justified an adoption, as the adopter gave it; null otherwise. */
  backtestId: string | null;
}

/** Versions oldest first, each with its `effectiveTo` (the next one's `effectiveFrom`). */
export function withValidity(versions: readonly Omit<RuleSetVersion, 'effectiveTo'>[]): RuleSetVersion[] {
  const sorted = [...versions].sort((a, b) => a.effectiveFrom.getTime() - b.effectiveFrom.getTime());
  return sorted.map((version, i) => ({ ...version, effectiveTo: sorted[i + 1]?.effectiveFrom ?? null }));
}

/**
 * The version in force at `at`: the latest whose `effectiveFrom` is at or before it. Before the
 * first version (a clock set back before the programme's start) the first one is the only rule set
 * there has ever been, so it answers; `versionAt` says whether `at` is inside a validity.
 */
export function ruleSetInForce(versions: readonly RuleSetVersion[], at: Date): RuleSetVersion {
  const first = versions[0];
  if (!first) throw new Error('the rule-set registry is empty');
  let found = first;
  for (const version of versions) {
    if (version.effectiveFrom.getTime() <= at.getTime()) found = version;
  }
  return found;
}

/** The version in force at `at`, or undefined before the first one's `effectiveFrom`. */
export function versionAt(versions: readonly RuleSetVersion[], at: Date): RuleSetVersion | undefined {
  const found = ruleSetInForce(versions, at);
  return found.effectiveFrom.getTime() <= at.getTime() ? found : undefined;
}

/**
 * The evaluation an adoption takes effect at: the first evaluation instant on or after
 * `effectiveFrom` (the evaluation day of `dayOfMonth`, 00:00 Asia/Shanghai).
 */
export function adoptionEvaluationAt(effectiveFrom: Date, dayOfMonth: number): Date {
  return nextEvaluationAt(new Date(effectiveFrom.getTime() - 1), dayOfMonth);
}

/**
 * Why `candidate` cannot follow `current` in the registry, as (path, message) pairs: the
 * evaluation calendar (day and window) is the programme's, not a version's, because every past
 * window and every scheduled evaluation are counted on it.
 */
export function adoptionProblems(current: RuleSet, candidate: RuleSet): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  for (const key of ['dayOfMonth', 'windowMonths'] as const) {
    if (candidate.evaluation[key] !== current.evaluation[key]) {
      problems.push({
        path: `evaluation.${key}`,
        message: `must stay ${current.evaluation[key]} (rule set ${current.version}): the evaluation calendar cannot change by adoption`,
      });
    }
  }
  return problems;
}
