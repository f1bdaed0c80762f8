import { type Category, type Source, TIERS, type Tier } from '@taobi/contracts';
import { z } from 'zod';
import defaultRuleSetData from './data/rule-set-2026.1.json';
import { scoreRulesSchema, sourceIds } from './score-rules';
import { assertValidThresholds } from './tiers';

/**
 * A versioned rule set: every number the domain rules use, and the sources themselves, as data
 * (`data/rule-set-<version>.json`, or the file `RULE_SET_FILE` names). Every service and the CLI
 * read the same one, so they agree on the sources, the score, the tiers and the evaluation day. A
 * score or tier records the version that produced it; a rebuild replays the ledger under the
 * current version. Parsed with this schema when a process starts: a typo stops the boot.
 */
const thresholdSchema = z.number().int().nonnegative();

export const ruleSetSchema = z.strictObject({
  version: z.string().regex(/^[A-Za-z0-9._-]{1,32}$/, 'must be 1 to 32 of A-Z a-z 0-9 . _ -'),
  /** The sources (business lines) with their channels and categories, and the score's numbers. */
  score: scoreRulesSchema,
  tiers: z.strictObject({
    /** The lowest score of each tier. BRONZE is 0; PLATINUM is 1000 (88VIP's historical bar). */
    thresholds: z
      .strictObject(
        Object.fromEntries(TIERS.map((tier) => [tier, thresholdSchema])) as Record<
          Tier,
          typeof thresholdSchema
        >,
      )
      .superRefine((thresholds, ctx) => {
        try {
          assertValidThresholds(thresholds);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
        }
      }),
    /**
     * At the monthly evaluation, a member whose score no longer holds the tier moves down either
     * straight to the tier the score supports, or one tier per evaluation.
     */
    downgrade: z.enum(['to-supported-tier', 'one-tier-at-a-time']),
  }),
  evaluation: z.strictObject({
    /** Day of the month (Asia/Shanghai) the monthly evaluation runs at 00:00. */
    dayOfMonth: z.number().int().min(1).max(28),
    /** Calendar months a contribution counts for. */
    windowMonths: z.number().int().min(1).max(120),
  }),
});

export type RuleSet = z.infer<typeof ruleSetSchema>;

/** Parses and validates a rule set (e.g. a JSON file's content); the error names each problem's path. */
export function parseRuleSet(raw: unknown): RuleSet {
  const result = ruleSetSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`,
  );
  throw new Error(`invalid rule set: ${problems.join('; ')}`);
}

/** The rule set shipped with this build (`data/rule-set-2026.1.json`), validated when the module loads. */
export const DEFAULT_RULE_SET: RuleSet = parseRuleSet(defaultRuleSetData);

/**
 * Why an event's source, channel or category is not one the rule set knows (the reason a dead
 * letter carries), or undefined when they all are.
 */
export function sourceFieldsProblem(
  rules: RuleSet,
  event: { source: Source; channel?: string | undefined; category?: Category | undefined },
): string | undefined {
  const known = Object.hasOwn(rules.score.sources, event.source)
    ? rules.score.sources[event.source]
    : undefined;
  if (!known) {
    return `source ${event.source} is not in rule set ${rules.version} (${sourceIds(rules.score).join(', ')})`;
  }
  if (event.channel !== undefined && !known.channels.includes(event.channel)) {
    return `channel ${event.channel} is not a ${event.source} channel in rule set ${rules.version}`;
  }
  if (event.category !== undefined && !Object.hasOwn(known.categories, event.category)) {
    return `category ${event.category} is not a ${event.source} category in rule set ${rules.version}`;
  }
  return undefined;
}
