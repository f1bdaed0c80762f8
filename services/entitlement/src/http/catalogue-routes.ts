import { routeDocs } from '@taobi/platform';
import type { FastifyInstance } from 'fastify';
import { benefitsSchema } from './api-schemas';
import type { RouteContext } from './context';

const DOCS = {
  benefits: routeDocs(['benefits'])('The benefit catalogue in force', benefitsSchema),
};

/** GET /v1/benefits: the catalogue in force (the version every grant records). */
export function registerCatalogueRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/v1/benefits', { onRequest: ctx.access.require('read'), schema: DOCS.benefits }, async () => ({
    version: ctx.catalogue.version,
    benefits: ctx.catalogue.benefits,
    vip88: ctx.catalogue.vip88,
  }));
}
