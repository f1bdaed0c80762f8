import type { Catalogue } from '@taobi/benefits';
import { badField, badFields, Errors, routeTable } from '@taobi/platform';
import type { RuleSet } from '@taobi/rules';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { backtestBodySchema, parseBacktestRequest } from '../domain/backtest';
import type { BacktestJobs } from '../jobs/backtests';
import { type BacktestSummaryRow, listBacktests, readBacktest } from '../store/backtests';
import { backtestListSchema, backtestSchema, backtestStartedSchema } from './api-schemas';
import type { RouteContext } from './context';

const paramsSchema = z.object({ id: z.uuid() });

function summary(row: BacktestSummaryRow) {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    progress: { done: row.done, total: row.total ?? 0 },
    asOf: row.as_of.toISOString(),
    createdAt: row.created_at.toISOString(),
    completedAt: row.completed_at?.toISOString() ?? null,
    ...(row.status === 'failed' ? { error: row.error } : {}),
  };
}

/**
 * Backtests (admin key): `POST /v1/admin/backtests` validates the candidate against the rule set in
 * force and starts the job (202); the GETs read its progress and comparison (partial while it runs).
 */
export function registerBacktestRoutes(
  app: FastifyInstance,
  options: Omit<RouteContext, 'registry'> & {
    jobs: BacktestJobs;
    /** The rule set in force at an instant: a backtest's baseline. */
    ruleSetInForce: (asOf: Date) => Promise<RuleSet>;
    /** The benefit catalogue in force: the baseline's, and the candidate's unless one is given. */
    catalogue: Catalogue;
    /** Tier's refund clawback window (`CLAWBACK_DAYS`). */
    clawbackDays: number;
  },
): void {
  const routes = routeTable(app, { tags: ['backtests'], onRequest: options.access.require('admin') });

  routes.post('/v1/admin/backtests', backtestStartedSchema, {
    summary: 'Start a backtest of a candidate rule set (and catalogue) against the one in force',
    status: 202,
    request: { body: backtestBodySchema },
    // Checked with the rule set in force: a candidate is an overlay merged over it.
    checkedByHandler: true,
    errors: [badFields('the request or of the merged candidate')],
    async handler(request, reply) {
      const parsed = await parseBacktestRequest(request.body, {
        now: options.now(),
        inForce: options.ruleSetInForce,
      });
      if (Array.isArray(parsed)) throw Errors.validation(parsed);
      const row = await options.jobs.create({
        name: parsed.name,
        asOf: parsed.asOf,
        clawbackDays: options.clawbackDays,
        baseline: { rules: await options.ruleSetInForce(parsed.asOf), catalogue: options.catalogue },
        candidate: { rules: parsed.candidate, catalogue: parsed.catalogue ?? options.catalogue },
      });
      return reply.code(202).send({ id: row.id, status: row.status });
    },
  });

  routes.get('/v1/admin/backtests', backtestListSchema, {
    summary: 'The latest backtests',
    handler: async () => ({ backtests: (await listBacktests(options.pool, 100)).map(summary) }),
  });

  routes.get('/v1/admin/backtests/:id', backtestSchema, {
    summary: 'One backtest: progress and comparison',
    request: { params: paramsSchema },
    errors: [badField('id', 'is not a UUID'), Errors.notFound.doc('no such backtest')],
    async handler({ params }) {
      const row = await readBacktest(options.pool, params.id);
      if (!row) throw Errors.notFound(`no backtest ${params.id}`);
      // The candidate as validated (an overlay merged over the rule set in force): what adopting it sends.
      return { ...summary(row), ...row.report, candidateRuleSet: row.candidate_rules };
    },
  });
}
