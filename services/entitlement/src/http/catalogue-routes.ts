import type { FastifyInstance } from 'fastify';
import type { RouteContext } from './context';

/** GET /v1/benefits: the catalogue in force (the version every grant records). */
export function registerCatalogueRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/v1/benefits', { onRequest: ctx.access.require('read') }, async () => ({
    version: ctx.catalogue.version,
    benefits: ctx.catalogue.benefits,
    vip88: ctx.catalogue.vip88,
  }));
}
