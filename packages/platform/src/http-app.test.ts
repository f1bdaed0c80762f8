import { requireKey } from './auth';
import { AppError, Errors } from './errors';
import { createHttpApp } from './http-app';
import { createLogger } from './logger';
import { createMetricsRegistry } from './metrics';

function buildApp(readiness: Record<string, () => Promise<unknown>> = {}) {
  const app = createHttpApp({
    logger: createLogger({ name: 'test', level: 'silent' }),
    metrics: createMetricsRegistry('test'),
    readiness,
    readinessTimeoutMs: 200,
    bodyLimit: 1024,
  });
  app.post('/echo', async (request) => ({ got: request.body }));
  app.get('/conflict', async () => {
    throw Errors.conflict('already there');
  });
  app.get('/boom', async () => {
    throw new Error('secret internals: password=hunter2');
  });
  app.get('/busy', async () => {
    throw Errors.unavailable('Kafka is unavailable', 7);
  });
  app.get('/guarded', { onRequest: requireKey(['the-read-key']) }, async () => ({ ok: true }));
  return app;
}

describe('createHttpApp', () => {
  it('when /healthz is asked, then it answers ok', async () => {
    const response = await buildApp().inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('when a dependency fails or hangs, then /readyz answers 503 naming it', async () => {
    const app = buildApp({
      postgres: async () => 'fine',
      kafka: async () => {
        throw new Error('connection refused');
      },
      redis: () => new Promise(() => undefined),
    });
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(503);
    const body = response.json();
    expect(body.status).toBe('not-ready');
    expect(body.checks.postgres).toBe('ok');
    expect(body.checks.kafka).toMatch(/connection refused/);
    expect(body.checks.redis).toMatch(/no answer within 200 ms/);
  });

  it('when every dependency answers, then /readyz answers 200', async () => {
    const response = await buildApp({ postgres: async () => 1 }).inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ready', checks: { postgres: 'ok' } });
  });

  it('when /metrics is scraped after a request, then the request histogram is there', async () => {
    const app = buildApp();
    await app.inject({ method: 'GET', url: '/healthz' });
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.headers['content-type']).toMatch(/text\/plain/);
    expect(response.body).toMatch(/http_request_duration_seconds_count\{[^}]*route="\/healthz"[^}]*\} 1/);
  });

  it('when the body is not JSON, then 400 INVALID_JSON', async () => {
    const response = await buildApp().inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"a":',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('INVALID_JSON');
  });

  it('when the body is too large, then 413 PAYLOAD_TOO_LARGE', async () => {
    const response = await buildApp().inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ a: 'x'.repeat(2000) }),
    });
    expect(response.statusCode).toBe(413);
    expect(response.json().error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('when the body is not JSON by content type, then 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const response = await buildApp().inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/xml' },
      payload: '<a/>',
    });
    expect(response.statusCode).toBe(415);
    expect(response.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('when a handler throws an AppError, then its status, code and headers are answered', async () => {
    const app = buildApp();
    const conflict = await app.inject({ method: 'GET', url: '/conflict' });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toEqual({ error: { code: 'CONFLICT', message: 'already there' } });
    const busy = await app.inject({ method: 'GET', url: '/busy' });
    expect(busy.statusCode).toBe(503);
    expect(busy.headers['retry-after']).toBe('7');
  });

  it('when a handler throws anything else, then a plain 500 leaks nothing', async () => {
    const response = await buildApp().inject({ method: 'GET', url: '/boom' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
    expect(response.body).not.toContain('hunter2');
  });

  it('when no route matches, then 404 NOT_FOUND', async () => {
    const response = await buildApp().inject({ method: 'GET', url: '/nowhere?x=1' });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('NOT_FOUND');
  });

  it('when a guarded route is called without, with a wrong, or with the right key, then 401, 401, 200', async () => {
    const app = buildApp();
    expect((await app.inject({ method: 'GET', url: '/guarded' })).statusCode).toBe(401);
    const wrong = await app.inject({
      method: 'GET',
      url: '/guarded',
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe('UNAUTHORIZED');
    const right = await app.inject({
      method: 'GET',
      url: '/guarded',
      headers: { authorization: 'Bearer the-read-key' },
    });
    expect(right.statusCode).toBe(200);
  });

  it('when an AppError has details, then they are members of its error body', () => {
    const error = new AppError('X', 'y', 409, { details: { existingId: 'e-1' } });
    expect(error.toJSON()).toEqual({ error: { code: 'X', message: 'y', existingId: 'e-1' } });
  });

  it('when an AppError is serialised, then it carries code, message and fields only', () => {
    const error = new AppError('X', 'y', 422, {
      fields: [{ field: 'a', message: 'b' }],
      cause: new Error('c'),
    });
    expect(error.toJSON()).toEqual({
      error: { code: 'X', message: 'y', fields: [{ field: 'a', message: 'b' }] },
    });
  });
});
