import {
  adoptionEvaluationAt,
  adoptionProblems,
  type RuleSetVersion,
  ruleSetInForce,
  versionAt,
  withValidity,
} from './rule-registry';
import { DEFAULT_RULE_SET } from './rule-set';

const version = (name: string, effectiveFrom: string): Omit<RuleSetVersion, 'effectiveTo'> => ({
  ruleSet: { ...DEFAULT_RULE_SET, version: name },
  effectiveFrom: new Date(effectiveFrom),
  adoptedAt: new Date(effectiveFrom),
  origin: 'adopted',
  backtestId: null,
});

describe('the rule-set registry', () => {
  const registry = withValidity([
    version('2027.2', '2027-06-07T16:00:00.000Z'),
    version('2026.1', '2027-05-20T04:00:00.000Z'),
  ]);

  it('when versions are registered, then each is valid until the next one’s effectiveFrom, oldest first', () => {
    expect(registry.map((v) => [v.ruleSet.version, v.effectiveTo?.toISOString() ?? null])).toEqual([
      ['2026.1', '2027-06-07T16:00:00.000Z'],
      ['2027.2', null],
    ]);
  });

  it('when asked for an instant, then the version in force is the latest one that started at or before it', () => {
    expect(ruleSetInForce(registry, new Date('2027-06-07T15:59:59.999Z')).ruleSet.version).toBe('2026.1');
    expect(ruleSetInForce(registry, new Date('2027-06-07T16:00:00.000Z')).ruleSet.version).toBe('2027.2');
    // Before the programme started: the first is the only rule set there has been, but none was in force.
    expect(ruleSetInForce(registry, new Date('2020-01-01T00:00:00Z')).ruleSet.version).toBe('2026.1');
    expect(versionAt(registry, new Date('2020-01-01T00:00:00Z'))).toBeUndefined();
  });

  it('when an adoption names an instant, then it takes effect at the first evaluation on or after it', () => {
    const at = (iso: string) => adoptionEvaluationAt(new Date(iso), 8).toISOString();
    expect(at('2027-05-25T00:00:00+08:00')).toBe('2027-06-07T16:00:00.000Z');
    expect(at('2027-06-08T00:00:00+08:00')).toBe('2027-06-07T16:00:00.000Z');
    expect(at('2027-06-08T00:00:00.001+08:00')).toBe('2027-07-07T16:00:00.000Z');
  });

  it('when a candidate changes the evaluation calendar, then each change is a problem naming its path', () => {
    const moved = { ...DEFAULT_RULE_SET, evaluation: { dayOfMonth: 15, windowMonths: 6 } };
    expect(adoptionProblems(DEFAULT_RULE_SET, moved).map((p) => p.path)).toEqual([
      'evaluation.dayOfMonth',
      'evaluation.windowMonths',
    ]);
    expect(adoptionProblems(DEFAULT_RULE_SET, DEFAULT_RULE_SET)).toEqual([]);
  });
});
