import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { requireKey } from './auth';
import { AppError, Errors } from './errors';
import { createHttpApp } from './http-app';
import { createLogger } from './logger';
import { createMetricsRegistry } from './metrics';
import { startTracing } from './tracing';

/** Sends `raw` bytes to a listening app on a connection of its own; resolves with the first answer. */
function rawRequest(app: ReturnType<typeof createHttpApp>, raw: string): Promise<string> {
  const { port } = app.server.address() as { port: number };
  return new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(raw));
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
      // A kept-alive connection would not close by itself: end it once one whole answer is in.
      const [head = '', body] = text.split('\r\n\r\n');
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? Number.NaN);
      if (body !== undefined && Buffer.byteLength(body) >= length) socket.end();
    });
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

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
  app.get('/members/:id', async (request) => ({ id: (request.params as { id: string }).id }));
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
    expect((await app.inject({ url: '/metrics' })).body).toMatch(/^taobi_service_ready\{[^}]*\} 0$/m);
  });

  it('when every dependency answers, then /readyz answers 200', async () => {
    const response = await buildApp({ postgres: async () => 1 }).inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ready', checks: { postgres: 'ok' } });
  });

  it('when every dependency answers, then taobi_service_ready is 1', async () => {
    const metrics = await buildApp({ postgres: async () => 1 }).inject({ url: '/metrics' });
    expect(metrics.body).toMatch(/^taobi_service_ready\{[^}]*\} 1$/m);
  });

  it('when a component reports a state, then /readyz names it until it is ok; a dead one stays dead and its fatal listeners run', async () => {
    const app = buildApp({ postgres: async () => 1 });
    const fatal: string[] = [];
    app.readiness.onFatal((component, error) => fatal.push(`${component}: ${error.message}`));
    const readyz = async () => {
      const response = await app.inject({ method: 'GET', url: '/readyz' });
      return { status: response.statusCode, checks: response.json().checks };
    };

    app.readiness.set('consumer:g', 'joining');
    expect(await readyz()).toEqual({ status: 503, checks: { postgres: 'ok', 'consumer:g': 'joining' } });
    app.readiness.set('consumer:g', 'ok');
    expect((await readyz()).status).toBe(200);

    app.readiness.fatal('consumer:g', new Error('retries exhausted'));
    app.readiness.set('consumer:g', 'stopped');
    expect(await readyz()).toEqual({
      status: 503,
      checks: { postgres: 'ok', 'consumer:g': 'dead: retries exhausted' },
    });
    expect(fatal).toEqual(['consumer:g: retries exhausted']);
  });

  it('when /metrics is scraped after a request, then the request histogram is there, labelled by route pattern', async () => {
    const app = buildApp();
    app.get('/v1/things/:id', async () => ({}));
    await app.inject({ method: 'GET', url: '/healthz' });
    await app.inject({ method: 'GET', url: '/v1/things/abc' });
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.headers['content-type']).toMatch(/text\/plain/);
    expect(response.body).toMatch(
      /taobi_http_request_duration_seconds_count\{[^}]*route="\/healthz"[^}]*\} 1/,
    );
    expect(response.body).toMatch(
      /taobi_http_request_duration_seconds_count\{[^}]*route="\/v1\/things\/:id"[^}]*status_code="200"[^}]*\} 1/,
    );
    expect(response.body).not.toContain('/v1/things/abc');
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

  /** Every error body is `{error: {code, message, ...}}` and nothing else. */
  function expectErrorBody(body: unknown, code: string) {
    expect(body).toEqual({ error: expect.objectContaining({ code, message: expect.any(String) }) });
    expect(Object.keys((body as { error: object }).error).sort()).toEqual(
      expect.arrayContaining(['code', 'message']),
    );
  }

  it.each([
    ['a path escape that is not UTF-8', 400, 'INVALID_URL', { method: 'GET', url: '/members/%ff' }],
    [
      'a path parameter over 100 characters',
      414,
      'URI_TOO_LONG',
      { method: 'GET', url: `/members/${'a'.repeat(101)}` },
    ],
    [
      'a body over the limit',
      413,
      'PAYLOAD_TOO_LARGE',
      {
        method: 'POST',
        url: '/echo',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ a: 'x'.repeat(2000) }),
      },
    ],
    [
      'a media type with no parser',
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      { method: 'POST', url: '/echo', headers: { 'content-type': 'application/xml' }, payload: '<a/>' },
    ],
    [
      'a text/plain body',
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      { method: 'POST', url: '/echo', headers: { 'content-type': 'text/plain' }, payload: 'hello' },
    ],
    [
      'JSON that does not parse',
      400,
      'INVALID_JSON',
      { method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"a":' },
    ],
    [
      'an empty JSON body',
      400,
      'INVALID_JSON',
      { method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '' },
    ],
    [
      'JSON with a __proto__ key',
      400,
      'INVALID_JSON',
      {
        method: 'POST',
        url: '/echo',
        headers: { 'content-type': 'application/json' },
        payload: '{"__proto__":{"x":1}}',
      },
    ],
    ['no route', 404, 'NOT_FOUND', { method: 'DELETE', url: '/nowhere' }],
    ['no key on a guarded route', 401, 'UNAUTHORIZED', { method: 'GET', url: '/guarded' }],
  ] as const)(
    'when fastify meets %s, then %i %s in the documented body, with nosniff and no-store',
    async (_what, status, code, request) => {
      const response = await buildApp().inject(request);
      expect(response.statusCode).toBe(status);
      expectErrorBody(response.json(), code);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['cache-control']).toBe('no-store');
    },
  );

  it('when a request comes in while the app closes, then 503 SERVICE_UNAVAILABLE in the documented body', async () => {
    const app = buildApp();
    let late = '';
    // Hooks run in order: by the time this one runs the app is closing, and it still listens.
    app.addHook('preClose', async () => {
      late = await rawRequest(app, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    await app.close();
    const [head = '', body = ''] = late.split('\r\n\r\n');
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 503 Service Unavailable');
    expect(head).toMatch(/retry-after: 5/i);
    expect(head).toMatch(/x-content-type-options: nosniff/i);
    expectErrorBody(JSON.parse(body), 'SERVICE_UNAVAILABLE');
  });

  it('when every answer goes out, then it carries nosniff and no-store, success too', async () => {
    const app = buildApp({ postgres: async () => 1 });
    for (const url of ['/healthz', '/readyz', '/metrics']) {
      const response = await app.inject({ method: 'GET', url });
      expect([url, response.headers['x-content-type-options'], response.headers['cache-control']]).toEqual([
        url,
        'nosniff',
        'no-store',
      ]);
    }
    const guarded = await app.inject({
      method: 'GET',
      url: '/guarded',
      headers: { authorization: 'Bearer the-read-key' },
    });
    expect(guarded.headers['cache-control']).toBe('no-store');
  });

  it.each([
    ['a malformed header', 400, 'BAD_REQUEST', 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'],
    [
      'headers over the size limit',
      431,
      'REQUEST_HEADER_FIELDS_TOO_LARGE',
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    ],
  ])(
    'when Node refuses %s before fastify sees it, then %i %s in the documented body',
    async (_what, status, code, raw) => {
      const app = buildApp();
      await app.listen({ port: 0, host: '127.0.0.1' });
      try {
        const answer = await rawRequest(app, raw);
        const [head = '', body = ''] = answer.split('\r\n\r\n');
        expect(head.split('\r\n')[0]).toBe(
          `HTTP/1.1 ${status} ${status === 400 ? 'Bad Request' : 'Request Header Fields Too Large'}`,
        );
        expect(head).toMatch(/x-content-type-options: nosniff/i);
        expectErrorBody(JSON.parse(body), code);
      } finally {
        await app.close();
      }
    },
  );

  describe('rate limit', () => {
    function limitedApp(max: number) {
      const app = createHttpApp({
        logger: createLogger({ name: 'test', level: 'silent' }),
        metrics: createMetricsRegistry('test'),
        rateLimit: { max, windowMs: 60_000 },
      });
      app.get('/members/:id', async (request) => ({ id: (request.params as { id: string }).id }));
      app.post('/admin/jobs', async () => ({ started: true }));
      return app;
    }

    it('when a client stays within the limit, then every request is served', async () => {
      const app = limitedApp(5);
      const answers = [];
      for (let i = 0; i < 5; i += 1)
        answers.push(await app.inject({ method: 'GET', url: `/members/m-${i}` }));
      expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200, 200]);
      expect(answers[4]?.headers['x-ratelimit-remaining']).toBe('0');
    });

    it('when a client goes over the limit, then 429 RATE_LIMITED names the limit, with Retry-After', async () => {
      const app = limitedApp(2);
      await app.inject({ method: 'GET', url: '/members/m-1' });
      await app.inject({ method: 'POST', url: '/admin/jobs' });
      const over = await app.inject({ method: 'GET', url: '/members/m-1' });
      expect(over.statusCode).toBe(429);
      expect(over.json()).toEqual({
        error: {
          code: 'RATE_LIMITED',
          message: 'rate limit exceeded: at most 2 requests per 60000 ms per client address',
        },
      });
      expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(over.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(over.headers['cache-control']).toBeDefined();
    });

    it('when clients come from other addresses, then each has its own count', async () => {
      const app = limitedApp(1);
      const first = await app.inject({ method: 'GET', url: '/members/m-1', remoteAddress: '10.0.0.1' });
      const second = await app.inject({ method: 'GET', url: '/members/m-1', remoteAddress: '10.0.0.2' });
      expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    });

    it('when the limit is spent, then the probes and /metrics still answer', async () => {
      const app = limitedApp(1);
      await app.inject({ method: 'GET', url: '/members/m-1' });
      expect((await app.inject({ method: 'GET', url: '/members/m-1' })).statusCode).toBe(429);
      for (const url of ['/healthz', '/readyz', '/metrics', '/healthz']) {
        expect((await app.inject({ method: 'GET', url })).statusCode).toBe(200);
      }
    });

    it('when max is 0, then nothing is limited', async () => {
      const app = limitedApp(0);
      for (let i = 0; i < 20; i += 1) {
        expect((await app.inject({ method: 'GET', url: '/members/m-1' })).statusCode).toBe(200);
      }
    });
  });
});

describe('request log lines', () => {
  // As a service runs without OTEL_EXPORTER_OTLP_ENDPOINT: ids, nothing exported.
  let tracing: ReturnType<typeof startTracing>;
  beforeAll(() => {
    tracing = startTracing({ serviceName: 'http-app-test', env: {} });
  });
  afterAll(() => tracing.shutdown());

  it('when a request continues a trace or starts one, then its answer names that trace and a span of its own, not sampled', async () => {
    const app = createHttpApp({
      logger: createLogger({ name: 'test', level: 'silent' }),
      metrics: createMetricsRegistry('test'),
    });
    app.get('/traced', async () => ({}));
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const continued = await app.inject({
      method: 'GET',
      url: '/traced',
      headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` },
    });
    // Not exported, so not sampled, whatever the caller's flag: as the SDK's AlwaysOffSampler.
    expect(continued.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
    expect(continued.headers.traceparent).not.toContain('b7ad6b7169203331');
    const started = await app.inject({ method: 'GET', url: '/traced' });
    expect(started.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(started.headers.traceparent).not.toContain(traceId);
  });

  it.each([true, false])(
    'when a handler logs (runInTraceContext %s), then its line carries the request id and the trace ids',
    async (runInTraceContext) => {
      const lines: Record<string, unknown>[] = [];
      const destination = new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()));
          done();
        },
      });
      const app = createHttpApp({
        logger: createLogger({ name: 'test', level: 'info' }, destination),
        metrics: createMetricsRegistry('test'),
        runInTraceContext,
      });
      app.get('/logs', async (request) => {
        request.log.debug('not written');
        request.log.child({ component: 'test' }).info({ n: 1 }, 'handled');
        return {};
      });
      const traceId = '0af7651916cd43dd8448eb211c80319c';
      const response = await app.inject({
        method: 'GET',
        url: '/logs',
        headers: { 'x-request-id': 'req-7', traceparent: `00-${traceId}-b7ad6b7169203331-01` },
      });
      expect(response.statusCode).toBe(200);
      expect(lines).toEqual([
        expect.objectContaining({
          msg: 'handled',
          reqId: 'req-7',
          component: 'test',
          n: 1,
          trace_id: traceId,
          span_id: expect.stringMatching(/^[0-9a-f]{16}$/),
        }),
      ]);
    },
  );
});
