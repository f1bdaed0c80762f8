import { parsePeriod } from '@taobi/benefits';
import { isoTimeSchema } from '@taobi/contracts';
import { badField, badFields } from '@taobi/platform';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { EntitlementErrors } from '../errors';
import { periodicGrantsSchema, termEndsSchema } from './api-schemas';
import { emptyBodySchema, entitlementRoutes, type RouteContext } from './context';

const periodicSchema = z
  .strictObject({
    /** One period: `2026-11-23` (daily benefits), `2026-W47` (weekly) or `2026-11` (monthly). */
    period: z
      .string()
      .refine(
        (key) => parsePeriod(key) !== undefined,
        'must be a period such as 2026-11-23, 2026-W47 or 2026-11',
      )
      .optional(),
    /** Or an instant: the daily, weekly and monthly periods holding it. Neither: now. */
    asOf: isoTimeSchema.optional(),
    /** Stop after this many pages (a bounded run; calling again resumes). */
    maxPages: z.number().int().min(1).max(1_000_000).optional(),
  })
  .refine((body) => !(body.period && body.asOf), {
    path: ['asOf'],
    message: 'give period or asOf, not both',
  });

export function registerAdminRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const routes = entitlementRoutes(app, ['admin'], ctx.access.require('admin'));

  /**
   * Issues periodic benefits now (what the schedule does on Monday and the 1st), then sweeps expired
   * grants. Idempotent per (member, benefit, period); an unfinished run resumes from its cursor, a
   * finished one is scanned again (granting only what is missing).
   */
  routes.post('/v1/admin/periodic-grants', periodicGrantsSchema, {
    summary: 'Issue periodic benefits now, then sweep expired grants',
    request: { body: periodicSchema },
    errors: [badFields('the body'), EntitlementErrors.periodEnded.doc('its benefits would expire on issue')],
    async handler({ body }) {
      const periods = body.period
        ? [body.period]
        : ctx.issuer.periodsAt(body.asOf ? new Date(body.asOf) : ctx.now());
      const runs = [];
      for (const period of periods) {
        runs.push(await ctx.issuer.issue(period, { maxPages: body.maxPages, rescanFinished: true }));
      }
      const expired = await ctx.issuer.expire();
      return { runs, expired };
    },
  });

  /**
   * Closes the 88VIP terms that have ended now (what the schedule does every minute): revokes and
   * publishes their bundle grants. A closed term is never closed again: safe to repeat.
   */
  routes.post('/v1/admin/vip88-term-ends', termEndsSchema, {
    summary: 'Close the 88VIP terms that have ended now',
    request: { body: emptyBodySchema },
    fieldPrefix: { body: ['body'] },
    errors: [badField('body', 'must be empty')],
    handler: async () => ctx.termEnder.run(),
  });
}
