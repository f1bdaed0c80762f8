import {
  createAccessControl,
  createHttpApp,
  createLogger,
  createMetricsRegistry,
  documented,
} from '@taobi/platform';
import { z } from 'zod';
import { OpenApiContract } from './openapi';

/** An app with one documented keyed route, one that answers off its documentation, and one undocumented. */
async function listen(): Promise<{ url: string; close: () => Promise<void> }> {
  const app = createHttpApp({
    logger: createLogger({ name: 'test', level: 'silent' }),
    metrics: createMetricsRegistry('test'),
    api: { title: 'Test', description: 'test' },
  });
  const access = createAccessControl('development', { READ_API_KEYS: ['read-key-123'] });
  const answer = z.object({ n: z.number().int() });
  const query = z.strictObject({ n: z.coerce.number().int() });
  app.get(
    '/v1/good',
    {
      onRequest: access.require('read'),
      schema: documented({ summary: 'good', querystring: query, responses: { 200: answer } }),
    },
    async (request) => ({ n: Number((request.query as { n?: string }).n ?? 1), extra: undefined }),
  );
  app.get(
    '/v1/drifted',
    { schema: documented({ summary: 'drifted', responses: { 200: answer } }) },
    async () => ({ n: 'one' }),
  );
  app.get('/v1/undocumented', async () => ({ n: 1 }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

describe('the OpenAPI contract checker', () => {
  let server: Awaited<ReturnType<typeof listen>>;
  let contract: OpenApiContract;

  beforeAll(async () => {
    server = await listen();
    contract = await OpenApiContract.load('test', server.url);
  });
  afterAll(() => server.close());

  it('when a route has no schema, then the document lists it as undocumented', () => {
    expect(contract.undocumented()).toEqual(['GET /v1/undocumented']);
  });

  it('when a route is guarded by a read key, then it is documented with the read scheme and its 401 and 403', () => {
    const operation = contract.document.paths['/v1/good']?.get as unknown as {
      security: unknown;
      responses: Record<string, unknown>;
    };
    expect(operation.security).toEqual([{ readKey: [] }]);
    expect(Object.keys(operation.responses).sort()).toEqual(['200', '401', '403', '500']);
  });

  it('when an answer does not match its documented schema, then the checker names the field', async () => {
    const drifted = await contract.call(server.url, 'GET', '/v1/drifted', { expected: 200 });
    expect(drifted.problems).toEqual(['test GET /v1/drifted 200: /n must be integer']);
  });

  it('when a route answered its success and a client error as documented, then it is no longer unchecked', async () => {
    expect(contract.unchecked()).toContain('GET /v1/good');
    const headers = { authorization: 'Bearer read-key-123' };
    const ok = await contract.call(server.url, 'GET', '/v1/good', {
      url: '/v1/good?n=2',
      headers,
      expected: 200,
    });
    const refused = await contract.call(server.url, 'GET', '/v1/good', { expected: 401 });
    expect([ok.body, ok.problems, refused.problems]).toEqual([{ n: 2 }, [], []]);
    expect(contract.unchecked()).not.toContain('GET /v1/good');
  });

  it('when a query does not match the route schema, then the handler still decides (validation stays in handlers)', async () => {
    const headers = { authorization: 'Bearer read-key-123' };
    const response = await fetch(`${server.url}/v1/good?n=abc`, { headers });
    expect(response.status).toBe(200);
  });
});
