import { isoTimeSchema } from '@taobi/contracts';
import { type AccessControl, type Pool, parseOr400, routeDocs } from '@taobi/platform';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ScoringJobs } from '../jobs/scoring-jobs';
import { evaluationListSchema, evaluationSchema, rebuildSchema, refillSchema } from './api-schemas';

const evaluationBodySchema = z.object({ asOf: isoTimeSchema.optional() }).strict();

const doc = routeDocs(['admin']);
const DOCS = {
  evaluate: doc(
    'Run the monthly evaluation as of `asOf` (default now); answers when it is complete',
    evaluationSchema,
    {
      body: evaluationBodySchema,
      errors: { 400: 'VALIDATION_FAILED: `asOf` is not ISO-8601 with an offset, or an unknown field.' },
    },
  ),
  evaluations: doc('The latest evaluations', evaluationListSchema),
  rebuild: doc('Rebuild every score from the ledger', rebuildSchema),
  refill: doc('Refill the Redis read model from Postgres', refillSchema),
};

/**
 * Admin APIs (admin key): run the monthly evaluation for any `asOf` (tests, demos, an SRE catching
 * up), rebuild every score from the ledger, refill the Redis read model. Each answers a summary of
 * what it changed once the work is done; each is safe to repeat.
 */
export function registerAdminRoutes(
  app: FastifyInstance,
  options: { access: AccessControl; jobs: ScoringJobs; pool: Pool; now: () => Date },
): void {
  const guard = options.access.require('admin');

  app.post('/v1/admin/evaluations', { onRequest: guard, schema: DOCS.evaluate }, async (request) => {
    const body = parseOr400(evaluationBodySchema, request.body ?? {});
    const asOf = body.asOf ? new Date(body.asOf) : options.now();
    return options.jobs.evaluate(asOf);
  });

  app.get('/v1/admin/evaluations', { onRequest: guard, schema: DOCS.evaluations }, async () => {
    const { rows } = await options.pool.query<{
      evaluation_at: Date;
      window_from: string;
      started_at: Date;
      completed_at: Date | null;
      members_evaluated: number;
      members_changed: number;
      points_expired: number;
    }>('SELECT * FROM scoring.evaluations ORDER BY evaluation_at DESC LIMIT 120');
    return {
      evaluations: rows.map((row) => ({
        evaluationAt: row.evaluation_at.toISOString(),
        windowFrom: row.window_from,
        startedAt: row.started_at.toISOString(),
        completedAt: row.completed_at?.toISOString() ?? null,
        membersEvaluated: row.members_evaluated,
        membersChanged: row.members_changed,
        pointsExpired: row.points_expired,
      })),
    };
  });

  app.post('/v1/admin/rebuild', { onRequest: guard, schema: DOCS.rebuild }, async () =>
    options.jobs.rebuild(),
  );

  app.post('/v1/admin/read-model/refill', { onRequest: guard, schema: DOCS.refill }, async () =>
    options.jobs.refill(),
  );
}
