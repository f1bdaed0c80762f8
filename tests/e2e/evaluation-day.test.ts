import { DEVELOPMENT_KEYS, loadConfig } from '@taobi/platform';
import { DEFAULT_RULE_SET, lastEvaluationAt, nextEvaluationAt, type RuleSet } from '@taobi/rules';
import { buildService } from '../../services/ingest-ecommerce/src/app';
import { configSchema } from '../../services/ingest-ecommerce/src/config';
import {
  createTestTopics,
  ingestOrder,
  ServiceProcess,
  TestStack,
  testEndpoints,
  testLogger,
  waitFor,
  writeRuleSetFile,
} from '../support';

/**
 * One evaluation day: it is rule-set data, so every service and the CLI given the same rule set
 * (RULE_SET_FILE) evaluate on the same day. Here the 15th instead of the shipped 8th: scoring and
 * tier, as processes, both catch up the evaluation due on the 15th at start and say so.
 */
const on15th: RuleSet = {
  ...structuredClone(DEFAULT_RULE_SET),
  version: '2026.1-day15',
  evaluation: { ...DEFAULT_RULE_SET.evaluation, dayOfMonth: 15 },
};

describe('the evaluation day, from the rule set', () => {
  const ruleSetFile = writeRuleSetFile(on15th);
  afterAll(() => ruleSetFile.remove());

  it('when the rule set says the 15th, then scoring and tier both evaluate on the 15th and tier announces it', async () => {
    const stack = await TestStack.start({
      services: ['scoring', 'tier'],
      env: { RULE_SET_FILE: ruleSetFile.path },
    });
    try {
      const admin = { headers: { authorization: `Bearer ${DEVELOPMENT_KEYS.admin}` } };
      const due = lastEvaluationAt(new Date(), 15).toISOString();
      const evaluated = (service: string, field: 'evaluationAt' | 'asOf') =>
        waitFor(
          async () => {
            const response = await fetch(`${stack.url(service)}/v1/admin/evaluations`, admin);
            const { evaluations } = (await response.json()) as { evaluations: Record<string, string>[] };
            return evaluations.length > 0 && evaluations.map((e) => e[field]);
          },
          { description: `${service} to catch up the last due evaluation` },
        );

      expect(await evaluated('scoring', 'evaluationAt')).toEqual([due]);
      expect(await evaluated('tier', 'asOf')).toEqual([due]);
      const tiers = await fetch(`${stack.url('tier')}/v1/tiers`, {
        headers: { authorization: `Bearer ${DEVELOPMENT_KEYS.read}` },
      });
      expect(((await tiers.json()) as { evaluation: unknown }).evaluation).toMatchObject({
        dayOfMonth: 15,
        nextAt: nextEvaluationAt(new Date(), 15).toISOString(),
      });
    } finally {
      await stack.stop();
    }
  });

  it('when the rule set says the 15th, then on the 10th an ingest service still accepts the month that expires on the 15th, which the 8th would refuse', async () => {
    const { prefix } = await createTestTopics();
    const december10 = new Date('2026-12-10T04:00:00Z');
    // December 2025 leaves the window at the evaluation of December 2026: the 8th or the 15th.
    const order = ingestOrder({
      channel: 'tmall',
      category: 'physical',
      occurredAt: '2025-12-20T12:00:00+08:00',
    });
    const statusUnder = async (env: Record<string, string>) => {
      const config = loadConfig(configSchema, {
        KAFKA_BROKERS: testEndpoints().kafkaBrokers.join(','),
        KAFKA_TOPIC_PREFIX: prefix,
        ...env,
      });
      const service = buildService(config, testLogger('ingest'), { now: () => december10 });
      await service.start();
      try {
        const response = await service.app.inject({
          method: 'POST',
          url: '/v1/events',
          headers: { 'content-type': 'application/json', authorization: 'Bearer dev-ecommerce-key' },
          payload: order,
        });
        return response.statusCode;
      } finally {
        await service.app.close();
        await service.stop();
      }
    };

    expect(await statusUnder({})).toBe(422);
    expect(await statusUnder({ RULE_SET_FILE: ruleSetFile.path })).toBe(202);
  });

  it('when scoring is still given the deprecated EVALUATION_DAY_OF_MONTH with another day than the rule set, then its boot is refused (exit 2) naming it', async () => {
    const scoring = ServiceProcess.start('services/scoring/src/main.ts', {
      RULE_SET_FILE: ruleSetFile.path,
      EVALUATION_DAY_OF_MONTH: '8',
    });
    const { code } = await scoring.exited;
    expect(code).toBe(2);
    expect(scoring.output).toMatch(
      /EVALUATION_DAY_OF_MONTH: deprecated, and 8 is not the evaluation day of rule set 2026\.1-day15 \(15\)/,
    );
  });

  it('when the CLI is given a rule set file it cannot read, then it stops naming RULE_SET_FILE before calling any service', async () => {
    const cli = ServiceProcess.start(
      'packages/cli/src/main.ts',
      { RULE_SET_FILE: `${ruleSetFile.path}.missing` },
      ['status'],
    );
    const { code } = await cli.exited;
    expect(code).toBe(1);
    expect(cli.output).toMatch(/taobi: invalid configuration: RULE_SET_FILE: ENOENT/);
  });
});
