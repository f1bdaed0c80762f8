import { documented } from '@taobi/platform';
import type { FastifyInstance } from 'fastify';
import { benefitsSchema } from './api-schemas';
import type { RouteContext } from './context';

const DOCS = {
  benefits: documented({
    summary: 'The benefit catalogue in force',
    tags: ['benefits'],
    responses: { 200: benefitsSchema },
  }),
};

/** GET /v1/benefits: the catalogue in force (the version every grant records). */
export function registerCatalogueRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/v1/benefits', { onRequest: ctx.access.require('read'), schema: DOCS.benefits }, async () => ({
    version: ctx.catalogue.version,
    benefits: ctx.catalogue.benefits,
    vip88: ctx.catalogue.vip88,
  }));
}
