import { join } from 'node:path';
import { migrate } from '@taobi/platform';
import { DEFAULT_RULE_SET, type RuleSet } from '@taobi/rules';
import { testLogger, waitFor } from '@taobi/tests';
import { openRuleRegistry, type RuleRegistry } from '../src/store/rule-sets';
import type { Queryable } from '../src/store/sql';
import { createStage, type Stage } from './harness';

/** A database that must not be asked: the registry answers from its copy while it listens. */
const unreachable: Queryable = {
  query: () => Promise.reject(new Error('queried the database')),
} as unknown as Queryable;

/**
 * Scoring folds each batch under the rule set in force (issue 16: without a query before each
 * fold): the registry answers from its copy while it listens on `scoring_rule_sets`, and a version
 * registered by another process (another instance's adoption) reaches that copy.
 */
describe('rule-set registry: the copy a scoring process folds under', () => {
  let stage: Stage;
  let listening: RuleRegistry;
  let other: RuleRegistry;
  const now = new Date();

  beforeAll(async () => {
    stage = await createStage();
    await migrate({
      databaseUrl: stage.databaseUrl,
      schema: 'scoring',
      dir: join(__dirname, '..', 'migrations'),
      logger: testLogger(),
    });
    listening = await openRuleRegistry(stage.db, DEFAULT_RULE_SET, now, { logger: testLogger('registry') });
    // Another instance's registry: it does not listen, so it answers by querying.
    other = await openRuleRegistry(stage.db, DEFAULT_RULE_SET, now);
  });

  afterAll(async () => {
    await listening?.close();
    await other?.close();
    await stage.close();
  });

  it('when the registry listens, then it answers the rule set in force without a query', async () => {
    const rules = await waitFor(() => listening.current(unreachable, now).catch(() => undefined));
    expect(rules.version).toBe(DEFAULT_RULE_SET.version);
  });

  it('when another process adopts a version, then the listening copy folds under it from its instant, not before', async () => {
    const candidate: RuleSet = { ...structuredClone(DEFAULT_RULE_SET), version: 'registry-cache-2' };
    const effectiveFrom = new Date(now.getTime() + 3_600_000);
    await other.adopt({ ruleSet: candidate, effectiveFrom, backtestId: null, now });

    const after = new Date(effectiveFrom.getTime() + 1);
    await waitFor(async () => (await listening.current(unreachable, after)).version === candidate.version);
    expect((await listening.current(unreachable, new Date(effectiveFrom.getTime() - 1))).version).toBe(
      DEFAULT_RULE_SET.version,
    );
    // The querying registry agrees.
    expect((await other.current(stage.db, after)).version).toBe(candidate.version);
  });

  it('when the registry stops listening, then it queries again', async () => {
    await listening.close();
    await expect(listening.current(unreachable, now)).rejects.toThrow('queried the database');
    expect((await listening.current(stage.db, now)).version).toBe(DEFAULT_RULE_SET.version);
  });
});
