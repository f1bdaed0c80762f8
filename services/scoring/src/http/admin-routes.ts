import { isoTimeSchema } from '@taobi/contracts';
import { badField, badFields, routeTable } from '@taobi/platform';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ScoringJobs } from '../jobs/scoring-jobs';
import { evaluationListSchema, evaluationSchema, rebuildSchema, refillSchema } from './api-schemas';
import type { RouteContext } from './context';

const evaluationBodySchema = z.object({ asOf: isoTimeSchema.optional() }).strict();

/**
 * Admin APIs (admin key): run the monthly evaluation for any `asOf` (tests, demos, an SRE catching
 * up), rebuild every score from the ledger, refill the Redis read model. Each answers a summary of
 * what it changed once the work is done; each is safe to repeat.
 */
export function registerAdminRoutes(
  app: FastifyInstance,
  options: Omit<RouteContext, 'registry'> & { jobs: ScoringJobs },
): void {
  const routes = routeTable(app, { tags: ['admin'], onRequest: options.access.require('admin') });

  routes.post('/v1/admin/evaluations', evaluationSchema, {
    summary: 'Run the monthly evaluation as of `asOf` (default now); answers when it is complete',
    request: { body: evaluationBodySchema },
    errors: [badField('asOf', 'is not ISO-8601 with an offset'), badFields('the body (an unknown one)')],
    async handler({ body }) {
      return options.jobs.evaluate(body.asOf ? new Date(body.asOf) : options.now());
    },
  });

  routes.get('/v1/admin/evaluations', evaluationListSchema, {
    summary: 'The latest evaluations',
    async handler() {
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
    },
  });

  routes.post('/v1/admin/rebuild', rebuildSchema, {
    summary: 'Rebuild every score from the ledger',
    handler: async () => options.jobs.rebuild(),
  });

  routes.post('/v1/admin/read-model/refill', refillSchema, {
    summary: 'Refill the Redis read model from Postgres',
    handler: async () => options.jobs.refill(),
  });
}
