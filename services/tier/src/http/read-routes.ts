import { memberIdSchema, TIERS } from '@taobi/contracts';
import { type AccessControl, Errors, fieldErrorsFromZod, type Pool } from '@taobi/platform';
import { nextEvaluationAt, type RuleSet, tierTable, unseenMember } from '@taobi/rules';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { memberTierView } from '../domain/member-view';
import type { TierMetrics } from '../metrics';
import { tierDistribution } from '../store/members';
import type { TierReadModel } from '../store/read-model';

const memberParams = z.object({ id: memberIdSchema });

/**
 * The read API (read key): the tier table, one member's tier as a member centre shows it, and the
 * distribution of members per tier for operators.
 */
export function registerReadRoutes(
  app: FastifyInstance,
  deps: {
    access: AccessControl;
    ruleSet: RuleSet;
    readModel: TierReadModel;
    pool: Pool;
    metrics: TierMetrics;
    now: () => Date;
  },
): void {
  const { ruleSet } = deps;
  const onRequest = deps.access.require('read');

  app.get('/v1/tiers', { onRequest }, async () => ({
    ruleVersion: ruleSet.version,
    tiers: tierTable(ruleSet.tiers.thresholds),
    downgrade: ruleSet.tiers.downgrade,
    evaluation: {
      dayOfMonth: ruleSet.evaluation.dayOfMonth,
      timeZone: 'Asia/Shanghai',
      nextAt: nextEvaluationAt(deps.now(), ruleSet.evaluation.dayOfMonth).toISOString(),
    },
  }));

  app.get('/v1/tiers/distribution', { onRequest }, async () => {
    const counts = await tierDistribution(deps.pool);
    const tiers = TIERS.map((tier) => ({ tier, members: counts.get(tier) ?? 0 }));
    return {
      tiers,
      total: tiers.reduce((sum, row) => sum + row.members, 0),
      // Members the service has never seen are BRONZE too, but are not counted here.
      countsMembersSeen: true,
      asOf: deps.now().toISOString(),
    };
  });

  app.get('/v1/members/:id/tier', { onRequest }, async (request) => {
    const params = memberParams.safeParse(request.params);
    if (!params.success) throw Errors.validation(fieldErrorsFromZod(params.error.issues));
    const memberId = params.data.id;
    const { member, source } = await deps.readModel.read(memberId);
    deps.metrics.reads.labels(source).inc();
    const now = deps.now();
    const state = member?.state ?? unseenMember(memberId, ruleSet.score.baseScore, now.toISOString());
    return memberTierView(state, { ruleSet, now, seen: member !== undefined });
  });
}
