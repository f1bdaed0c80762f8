import type { FastifyInstance } from 'fastify';
import type { OpenAPIV3_1 } from 'openapi-types';
import { z } from 'zod';
import { createAccessControl } from './auth';
import { badCursor, badField, Errors, errorKind } from './errors';
import { createHttpApp } from './http-app';
import { createLogger } from './logger';
import { createMetricsRegistry } from './metrics';
import { routeTable } from './route-table';

const READ = { authorization: 'Bearer read-key-123' };
const outOfOrder = errorKind('OUT_OF_ORDER', 409, (asOf: string) => ({ message: `${asOf} is out of order` }));

function buildApp(): FastifyInstance {
  const app = createHttpApp({
    logger: createLogger({ name: 'test', level: 'silent' }),
    metrics: createMetricsRegistry('test'),
    api: { title: 'Test', description: 'test' },
  });
  const access = createAccessControl('development', { READ_API_KEYS: ['read-key-123'] });
  const routes = routeTable(app, { tags: ['test'], onRequest: access.require('read') });
  routes.get('/v1/things/:asOf', z.object({ asOf: z.string() }), {
    summary: 'One thing',
    request: {
      params: z.object({ asOf: z.iso.datetime() }),
      query: z.strictObject({ cursor: z.string().optional() }),
    },
    errors: [
      badField('asOf', 'is not ISO-8601'),
      badCursor('cursor'),
      badField('limit', 'is out of range'),
      Errors.notFound.doc('no thing as of `asOf`'),
      outOfOrder.doc('a later thing has started'),
    ],
    handler: async ({ params }) => ({ asOf: params.asOf }),
  });
  routes.post('/v1/things/:asOf/checked', z.object({ raw: z.unknown() }), {
    summary: 'A route that checks its own request',
    request: { params: z.object({ asOf: z.iso.datetime() }) },
    checkedByHandler: true,
    handler: async (request) => ({ raw: request.params }),
  });
  return app;
}

describe('routeTable', () => {
  let app: FastifyInstance;
  let document: OpenAPIV3_1.Document;

  beforeAll(async () => {
    app = buildApp();
    document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
  });

  afterAll(async () => {
    await app.close();
  });

  const descriptions = (path: string, method: 'get' | 'post') =>
    Object.fromEntries(
      Object.entries(document.paths?.[path]?.[method]?.responses ?? {}).map(([status, answer]) => [
        status,
        (answer as OpenAPIV3_1.ResponseObject).description,
      ]),
    );

  it('when a route lists its errors by kind, then each status is documented once, its codes merged in order', () => {
    expect(descriptions('/v1/things/{asOf}', 'get')).toEqual({
      200: 'OK',
      400: 'VALIDATION_FAILED: `asOf` is not ISO-8601; `limit` is out of range, or INVALID_CURSOR: `cursor` is not a cursor this API returned.',
      401: 'UNAUTHORIZED: no bearer key, or an unknown one.',
      403: 'FORBIDDEN: a known key that may not call this endpoint.',
      404: 'NOT_FOUND: no thing as of `asOf`.',
      409: 'OUT_OF_ORDER: a later thing has started.',
      429: 'RATE_LIMITED: too many requests; Retry-After says when to come back.',
      500: 'INTERNAL: an unexpected error; nothing internal is in the answer.',
      503: 'SERVICE_UNAVAILABLE: a dependency did not answer in time, or the service is stopping; retry after Retry-After.',
    });
  });

  it('when an error kind is thrown, then it carries the code and status its documentation names', () => {
    const error = outOfOrder('2026-11-01T00:00:00Z');
    expect([error.code, error.statusCode, error.message]).toEqual([
      'OUT_OF_ORDER',
      409,
      '2026-11-01T00:00:00Z is out of order',
    ]);
  });

  it('when a parsed route gets a bad parameter, then the table answers 400 naming it before the handler', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/things/yesterday', headers: READ });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.fields).toEqual([{ field: 'asOf', message: expect.any(String) }]);
  });

  it('when a route is checked by its handler, then its documented schemas are not applied and it gets the raw request', async () => {
    const response = await app.inject({ method: 'POST', url: '/v1/things/yesterday/checked', headers: READ });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ raw: { asOf: 'yesterday' } });
    expect(descriptions('/v1/things/{asOf}/checked', 'post')[400]).toBeUndefined();
  });
});
