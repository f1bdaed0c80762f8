import type { FastifyInstance } from 'fastify';
import { benefitsSchema } from './api-schemas';
import { entitlementRoutes, type RouteContext } from './context';

/** GET /v1/benefits: the catalogue in force (the version every grant records). */
export function registerCatalogueRoutes(app: FastifyInstance, ctx: RouteContext): void {
  entitlementRoutes(app, ['benefits'], ctx.access.require('read')).get('/v1/benefits', benefitsSchema, {
    summary: 'The benefit catalogue in force',
    handler: async () => ({
      version: ctx.catalogue.version,
      benefits: ctx.catalogue.benefits,
      vip88: ctx.catalogue.vip88,
    }),
  });
}
