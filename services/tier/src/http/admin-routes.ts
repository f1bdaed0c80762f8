import { isoTimeSchema } from '@taobi/contracts';
import { type AccessControl, Errors, fieldErrorsFromZod, type Pool } from '@taobi/platform';
import { nextEvaluationAt, type RuleSet } from '@taobi/rules';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Evaluator } from '../evaluation/evaluator';
import { listEvaluations, readEvaluation } from '../store/evaluations';

const startBody = z.object({ asOf: isoTimeSchema }).strict();
const evaluationParams = z.object({ asOf: isoTimeSchema });

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
  const onRequest = deps.access.require('admin');

  app.post('/v1/admin/evaluations', { onRequest }, async (request) => {
    const body = startBody.safeParse(request.body ?? {});
    if (!body.success) throw Errors.validation(fieldErrorsFromZod(body.error.issues));
    const asOf = new Date(body.data.asOf);
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
  });

  app.get('/v1/admin/evaluations', { onRequest }, async () => ({
    evaluations: await listEvaluations(deps.pool, 24),
  }));

  app.get('/v1/admin/evaluations/:asOf', { onRequest }, async (request) => {
    const params = evaluationParams.safeParse(request.params);
    if (!params.success) throw Errors.validation(fieldErrorsFromZod(params.error.issues));
    const found = await readEvaluation(deps.pool, new Date(params.data.asOf).toISOString());
    if (!found) throw Errors.notFound(`no evaluation as of ${params.data.asOf}`);
    return found;
  });
}
