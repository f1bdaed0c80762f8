import { DEFAULT_RULE_SET, parseRuleSet, type RuleSet, ruleSetSchema, sourceFieldsProblem } from './rule-set';

const shipped = (): RuleSet => structuredClone(DEFAULT_RULE_SET);

/** The paths of what is wrong with a rule set, as `parseRuleSet` names them. */
function problemsOf(raw: unknown): string[] {
  return ruleSetSchema.safeParse(raw).error?.issues.map((issue) => issue.path.map(String).join('.')) ?? [];
}

describe('the rule set as data', () => {
  it('when the shipped rule set is read, then it is version 2026.1, evaluates on the 8th and has the four sources', () => {
    expect(DEFAULT_RULE_SET.version).toBe('2026.1');
    expect(DEFAULT_RULE_SET.evaluation).toEqual({ dayOfMonth: 8, windowMonths: 12 });
    expect(Object.keys(DEFAULT_RULE_SET.score.sources)).toEqual(['ecommerce', 'food', 'travel', 'mobility']);
    expect(DEFAULT_RULE_SET.score.sources.food?.channels).toEqual(['eleme', 'flash-sale']);
  });

  it('when a fifth source is one more entry, then the rule set parses with it', () => {
    const raw = shipped();
    raw.score.sources.cinema = {
      channels: ['maoyan'],
      categories: { screening: { fenPerPoint: 2_000, orderCap: 15 } },
      monthlyCap: 30,
      frequency: { pointsPerOrder: 1, minNetAmount: 3_000, monthlyCap: 4 },
    };
    expect(Object.keys(parseRuleSet(JSON.parse(JSON.stringify(raw))).score.sources)).toContain('cinema');
  });

  it.each<[string, (raw: RuleSet & Record<string, unknown>) => void, string]>([
    ['an unknown field', (raw) => Object.assign(raw, { evaluationDay: 9 }), ''],
    [
      'a source id that is not kebab-case',
      (raw) => Object.assign(raw.score.sources, { 'Grocery Store': raw.score.sources.food }),
      'score.sources.Grocery Store',
    ],
    [
      'a source without channels',
      (raw) => Object.assign(raw.score.sources.food ?? {}, { channels: [] }),
      'score.sources.food.channels',
    ],
    [
      'a source without categories',
      (raw) => Object.assign(raw.score.sources.travel ?? {}, { categories: {} }),
      'score.sources.travel.categories',
    ],
    ['no source at all', (raw) => Object.assign(raw.score, { sources: {} }), 'score.sources'],
    [
      'thresholds that do not rise',
      (raw) => Object.assign(raw.tiers.thresholds, { GOLD: 300 }),
      'tiers.thresholds',
    ],
    [
      'an evaluation day past the 28th',
      (raw) => Object.assign(raw.evaluation, { dayOfMonth: 31 }),
      'evaluation.dayOfMonth',
    ],
  ])('when it has %s, then it is refused naming where', (_what, spoil, path) => {
    const raw = shipped() as RuleSet & Record<string, unknown>;
    spoil(raw);
    expect(problemsOf(raw)).toContain(path);
    expect(() => parseRuleSet(raw)).toThrow(new RegExp(`^invalid rule set: .*${path || '\\(root\\)'}: `));
  });
});

describe('sourceFieldsProblem', () => {
  const rules = DEFAULT_RULE_SET;

  it("when an event's source, channel and category are the rule set's, then there is no problem", () => {
    expect(
      sourceFieldsProblem(rules, { source: 'food', channel: 'eleme', category: 'meal' }),
    ).toBeUndefined();
    expect(sourceFieldsProblem(rules, { source: 'mobility' })).toBeUndefined();
  });

  it('when the source is not in the rule set, then the reason names it and the rule set', () => {
    expect(sourceFieldsProblem(rules, { source: 'cinema', channel: 'maoyan' })).toBe(
      'source cinema is not in rule set 2026.1 (ecommerce, food, travel, mobility)',
    );
  });

  it("when a channel or category is another source's, then the reason names the field", () => {
    expect(
      sourceFieldsProblem(rules, { source: 'ecommerce', channel: 'eleme', category: 'physical' }),
    ).toMatch(/^channel eleme is not a ecommerce channel/);
    expect(sourceFieldsProblem(rules, { source: 'travel', channel: 'fliggy', category: 'meal' })).toMatch(
      /^category meal is not a travel category/,
    );
    expect(sourceFieldsProblem(rules, { source: 'food', category: 'toString' })).toMatch(
      /^category toString/,
    );
  });
});
