import { isoTimeSchema } from '@taobi/contracts';
import {
  type AccessControl,
  badField,
  COMMON_ERRORS,
  Errors,
  type Pool,
  pageLimit,
  routeTable,
} from '@taobi/platform';
import { nextEvaluationAt, type RuleSet } from '@taobi/rules';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { type Evaluator, evaluationOutOfOrder } from '../evaluation/evaluator';
import { listEvaluations, readEvaluation } from '../store/evaluations';
import { evaluationListSchema, evaluationRunSchema, evaluationSchema } from './api-schemas';

const startBody = z.object({ asOf: isoTimeSchema }).strict();
const evaluationParams = z.object({ asOf: isoTimeSchema });
/** The latest evaluations, newest first: 24 by default (two years), up to 1000 (replay reads them all). */
const listQuery = z.strictObject({ limit: pageLimit(1000, 24) });

/**
 * Admin API (admin key). `POST /v1/admin/evaluations {asOf}` runs the monthly evaluation as of
 * `asOf` and answers when it is complete (200 with its summary; `alreadyCompleted: true` when it
 * had run before, in which case nothing was done). `asOf` may be at most the next scheduled
 * evaluation, so a demo can run December's early, but no further ahead; evaluations run in time
 * order (409 for an `asOf` before one already started).
 */
export function registerAdminRoutes(
  app: FastifyInstance,
  deps: { access: AccessControl; evaluator: Evaluator; pool: Pool; ruleSet: RuleSet; now: () => Date },
): void {
  const routes = routeTable(app, { tags: ['admin'], onRequest: deps.access.require('admin') });

  routes.post('/v1/admin/evaluations', evaluationRunSchema, {
    summary: 'Run the monthly evaluation as of `asOf`; answers when it is complete',
    request: { body: startBody },
    errors: [
      badField('asOf', 'missing, not ISO-8601, or after the next scheduled evaluation'),
      evaluationOutOfOrder.doc(
        'an evaluation after `asOf` has already started (evaluations run in time order)',
      ),
    ],
    async handler({ body }, request) {
      const asOf = new Date(body.asOf);
      const latestAllowed = nextEvaluationAt(deps.now(), deps.ruleSet.evaluation.dayOfMonth);
      if (asOf.getTime() > latestAllowed.getTime()) {
        throw Errors.validation([
          {
            field: 'asOf',
            message: `must not be after the next scheduled evaluation (${latestAllowed.toISOString()})`,
          },
        ]);
      }
      request.log.info({ asOf: asOf.toISOString(), reqId: request.id }, 'evaluation requested');
      return deps.evaluator.run(asOf, 'admin');
    },
  });

  routes.get('/v1/admin/evaluations', evaluationListSchema, {
    summary: 'The latest evaluations, newest first',
    request: { query: listQuery },
    errors: COMMON_ERRORS.badParameter,
    async handler({ query }) {
      return { evaluations: await listEvaluations(deps.pool, query.limit) };
    },
  });

  routes.get('/v1/admin/evaluations/:asOf', evaluationSchema, {
    summary: 'One evaluation',
    request: { params: evaluationParams },
    errors: [badField('asOf', 'is not ISO-8601'), Errors.notFound.doc('no evaluation as of `asOf`')],
    async handler({ params }) {
      const found = await readEvaluation(deps.pool, new Date(params.asOf).toISOString());
      if (!found) throw Errors.notFound(`no evaluation as of ${params.asOf}`);
      return found;
    },
  });
}
