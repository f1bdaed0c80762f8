import { randomUUID } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import { type Context, context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { Gauge, Histogram, type Registry } from 'prom-client';
import { z } from 'zod';
import { type ApiDocsOptions, documented, errorBodySchema, errorMeanings, registerApiDocs } from './api-docs';
import { Errors } from './errors';
import { answerClientError, RESPONSE_HEADERS, toAppError } from './http-errors';
import { DeferredChildLogger, type Logger } from './logger';
import { createReadiness, type Readiness, type ReadinessCheck } from './readiness';
import {
  activeTraceIds,
  serverSpanContext,
  spansExported,
  TRACEPARENT,
  traceparentOf,
  UNTRACED_PATHS,
} from './trace-context';

declare module 'fastify' {
  interface FastifyInstance {
    /** What `/readyz` answers from; consumers report their state here. */
    readiness: Readiness;
  }
  interface FastifyRequest {
    /** The trace context of the request's server span (the root context for an untraced request). */
    traceContext: Context;
  }
}

export interface HttpAppOptions {
  logger: Logger;
  metrics: Registry;
  /** Probed by `/readyz`; each must answer within `readinessTimeoutMs`. */
  readiness?: Record<string, ReadinessCheck>;
  readinessTimeoutMs?: number;
  bodyLimit?: number;
  /** Behind a reverse proxy: take the client's address and protocol from its X-Forwarded-* headers. */
  trustProxy?: boolean;
  /** Serve `/openapi.json` and `/docs`, generated from the routes' schemas (`documented`). */
  api?: ApiDocsOptions;
  /**
   * The limit on every route but the probes, per client address (`httpRateLimit(config)`); a route
   * may set its own (`rateLimitRoute`). Unset or `max: 0`: no limit.
   */
  rateLimit?: HttpRateLimit;
  /**
   * Whether each request runs in its trace context (default true), so that what its handler does
   * (an outbox row, an outgoing call, a log line) continues its trace without being told. False:
   * the context is only `request.traceContext`, which the handler hands on itself (the ingest route
   * binds its records to it), and the request's log lines carry its ids as bindings. On Node 20 an
   * async context costs every promise a hook (~35 µs of a single-event ingest POST); only while
   * spans are not exported does this choose anything (the HTTP instrumentation runs every request
   * in its span's context).
   */
  runInTraceContext?: boolean;
}

/** At most `max` requests in each window of `windowMs`, counted per client (fixed windows). */
export interface HttpRateLimit {
  max: number;
  windowMs: number;
}

/** The service-wide limit from the environment (`HTTP_RATE_LIMIT_MAX`, `HTTP_RATE_LIMIT_WINDOW_MS`). */
export function httpRateLimit(config: { HTTP_RATE_LIMIT_MAX: number; HTTP_RATE_LIMIT_WINDOW_MS: number }) {
  return { max: config.HTTP_RATE_LIMIT_MAX, windowMs: config.HTTP_RATE_LIMIT_WINDOW_MS };
}

/** A 429 in the documented error format, naming the limit, with Retry-After. */
function rateLimitedError(limit: HttpRateLimit, per: string) {
  return (_request: FastifyRequest, context: { ttl: number }) =>
    Errors.rateLimited(
      Math.max(1, Math.ceil(context.ttl / 1000)),
      `rate limit exceeded: at most ${limit.max} requests per ${limit.windowMs} ms ${per}`,
    );
}

/**
 * A route's own limit (its `config.rateLimit`), replacing the service-wide one: counted per
 * `keyOf(request)` (an API key, say), checked in `hook` (after the route's own onRequest hooks
 * when `preParsing`). `max: 0` exempts the route.
 */
export function rateLimitRoute(
  limit: HttpRateLimit,
  options: { keyOf: (request: FastifyRequest) => string; per: string; hook?: 'onRequest' | 'preParsing' },
) {
  if (limit.max <= 0) return false as const;
  return {
    max: limit.max,
    timeWindow: limit.windowMs,
    hook: options.hook ?? 'onRequest',
    keyGenerator: options.keyOf,
    errorResponseBuilder: rateLimitedError(limit, options.per),
  };
}

/** The body of `/readyz`: `ready` (200) or `not-ready` (503), with every check. */
const readinessAnswer = (status: 'ready' | 'not-ready') =>
  z.object({
    status: z.literal(status),
    checks: z
      .record(z.string(), z.string())
      .describe('Each dependency probe and component: ok, or what is wrong.'),
  });

/**
 * What each operational route answers while the service shuts down: from `preClose` on, the
 * `onRequest` hook below refuses every request (a supervisor's probe too) in the error body.
 */
const SHUTTING_DOWN = Errors.unavailable.doc('the service is shutting down; retry after Retry-After');

/** The operational routes' documentation: every service serves them, without a key. */
const OPERATIONS = {
  healthz: documented({
    summary: 'Liveness: the process answers',
    tags: ['operations'],
    responses: { 200: z.object({ status: z.literal('ok') }) },
    errors: [SHUTTING_DOWN],
  }),
  readyz: documented({
    summary: 'Readiness: every dependency probe and component is ready',
    tags: ['operations'],
    responses: {
      200: readinessAnswer('ready'),
      // Two bodies under one status: not ready (a check failed, or the start is not done), or the
      // shutdown's refusal, which comes before the handler runs.
      503: {
        description: `Not ready: \`not-ready\`, naming each check that is not ok; or ${errorMeanings([SHUTTING_DOWN])[503]}`,
        content: {
          'application/json': { schema: z.union([readinessAnswer('not-ready'), errorBodySchema]) },
        },
      },
    },
  }),
  metrics: documented({
    summary: 'Prometheus metrics',
    tags: ['operations'],
    responses: {
      200: {
        description: 'The Prometheus text exposition format.',
        content: { 'text/plain': { schema: z.string() } },
      },
    },
    errors: [SHUTTING_DOWN],
  }),
};

/**
 * Answers any error in the documented format: `{ error: { code, message, fields? } }`. It sets the
 * common headers itself: fastify's framework errors (a bad URL) are answered without running hooks.
 */
function answerError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.headers(RESPONSE_HEADERS);
  const appError = toAppError(error);
  if (!appError) {
    request.log.error({ err: error, reqId: request.id }, 'unhandled error');
    return reply.status(500).send(Errors.internal().toJSON());
  }
  if (appError.statusCode >= 500) {
    request.log.warn({ err: appError.cause ?? appError, code: appError.code }, appError.message);
  }
  return reply.status(appError.statusCode).headers(appError.headers).send(appError.toJSON());
}

/**
 * Builds a fastify app with what every Taobi service serves: `/healthz`, `/readyz` (from
 * `app.readiness`: the dependency probes given here and the states components report), `/metrics`,
 * one error format for every error (ours, fastify's, Node's HTTP parser's; stable codes, no
 * internals leaked), the same security and caching headers on every answer, and request metrics.
 * It does not listen.
 */
export function createHttpApp(options: HttpAppOptions): FastifyInstance {
  let closing = false;
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps the app's type the default instance type.
    loggerInstance: options.logger as FastifyBaseLogger,
    // One line per request is logged by our onResponse hook (debug, or warn for 5xx) instead.
    logController: new LogController({ disableRequestLogging: true }),
    // Each request's logger is made when it first writes (most write nothing): see DeferredChildLogger.
    childLoggerFactory: (logger, bindings, childOptions) =>
      (Object.keys(childOptions).length > 0
        ? logger.child(bindings, childOptions)
        : new DeferredChildLogger(logger as Logger, bindings)) as unknown as FastifyBaseLogger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // Fastify's own answers to a bad URL or an over-long path parameter, and to requests arriving
    // while it closes, would each have a format of their own: they go through ours instead.
    frameworkErrors: answerError,
    clientErrorHandler: answerClientError,
    return503OnClosing: false,
    trustProxy: options.trustProxy ?? false,
  });
  if (options.api) registerApiDocs(app, options.api);
  const docs = (schema: keyof typeof OPERATIONS) => (options.api ? { schema: OPERATIONS[schema] } : {});
  // The APIs speak JSON only: a text/plain body is a 415 like any other type, not a string to validate.
  app.removeContentTypeParser('text/plain');

  app.addHook('preClose', async () => {
    closing = true;
  });
  // The request's server span. Exported, the HTTP instrumentation made it and runs the request in
  // its context. Otherwise it is made here (ids only, a fraction of the instrumentation's cost) and,
  // unless `runInTraceContext` is false, the rest of the request (its body's and its answer's events
  // included) runs in its context, as under the instrumentation. The first hook, so that every later
  // one is in it. Hooks on every request take callbacks: an async one costs a promise and a turn.
  app.decorateRequest('traceContext', null as unknown as Context);
  const inContext = options.runInTraceContext ?? true;
  app.addHook('onRequest', (request, reply, done) => {
    const refused = closing ? Errors.unavailable('the service is shutting down') : undefined;
    if (spansExported()) {
      request.traceContext = context.active();
      return done(refused);
    }
    if (UNTRACED_PATHS.has(request.routeOptions.url ?? '')) {
      request.traceContext = ROOT_CONTEXT;
      return done(refused);
    }
    const traced = serverSpanContext(request.headers);
    request.traceContext = traced;
    if (inContext) {
      context.bind(traced, request.raw);
      context.bind(traced, reply.raw);
      return context.with(traced, () => done(refused));
    }
    const ids = activeTraceIds(traced);
    if (ids) {
      request.log = request.log.child(ids);
      reply.log = request.log;
    }
    done(refused);
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.headers(RESPONSE_HEADERS);
    // The trace this request started or continued: a caller (and an operator) can follow it from
    // here, e.g. an ingest 202 to the records it caused (README, "Operations").
    const traceparent = traceparentOf(request.traceContext ?? context.active());
    if (traceparent) reply.header(TRACEPARENT, traceparent);
    done(null, payload);
  });
  // The HTTP server span (instrumentation-http) is named after the route, not the raw URL.
  if (spansExported()) {
    app.addHook('onRequest', (request, _reply, done) => {
      const span = trace.getActiveSpan();
      const route = request.routeOptions.url;
      if (span && route) {
        span.updateName(`${request.method} ${route}`);
        span.setAttribute('http.route', route);
      }
      done();
    });
  }

  const duration = new Histogram({
    name: 'taobi_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [options.metrics],
  });

  // The histogram's child per method, route and status, kept: `labels()` hashes its values on
  // every call, and this runs for every request.
  const durationOf = new Map<string, ReturnType<typeof duration.labels>>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = `${request.method} ${route} ${reply.statusCode}`;
    let observed = durationOf.get(labels);
    if (!observed) {
      observed = duration.labels(request.method, route, String(reply.statusCode));
      durationOf.set(labels, observed);
    }
    observed.observe(reply.elapsedTime / 1000);
    const context = { reqId: request.id, method: request.method, route, status: reply.statusCode };
    if (reply.statusCode >= 500) request.log.warn(context, 'request failed');
    else request.log.debug(context, 'request served');
    done();
  });

  app.setErrorHandler(answerError);

  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send(Errors.notFound(`no route for ${request.method} ${request.url.split('?')[0]}`).toJSON()),
  );

  // The plugin must see every route as it is added, and a service adds its routes right after this
  // synchronous factory returns, before `register` would have loaded the plugin (at ready). Its
  // setup up to the onRoute hook is synchronous and it skips encapsulation (fastify-plugin), so it
  // is applied to the root instance directly; what little it awaits after that cannot fail.
  const limit = options.rateLimit;
  if (limit && limit.max > 0) {
    const loading: unknown = rateLimit(
      app,
      {
        max: limit.max,
        timeWindow: limit.windowMs,
        errorResponseBuilder: rateLimitedError(limit, 'per client address'),
      },
      () => undefined,
    );
    void Promise.resolve(loading).catch((error: unknown) =>
      app.log.error({ err: error }, 'rate limit setup failed'),
    );
  }
  // Probes and scrapes are never limited: a supervisor must always get its answer.
  const unlimited = { config: { rateLimit: false } } as const;

  app.get('/healthz', { ...unlimited, ...docs('healthz') }, async () => ({ status: 'ok' }));

  const readiness = createReadiness(options.readiness);
  app.decorate('readiness', readiness);
  // What /readyz answers, for alerting: a service that is up (scraped) but not ready is as bad as
  // one that is down, and compose or Kubernetes may keep it out of rotation without anyone seeing.
  new Gauge({
    name: 'taobi_service_ready',
    help: 'Whether the service is ready (1) or not (0), as /readyz answers; /readyz names the failing checks',
    registers: [options.metrics],
    async collect() {
      this.set((await readiness.evaluate(options.readinessTimeoutMs ?? 2000)).ready ? 1 : 0);
    },
  });
  app.get('/readyz', { ...unlimited, ...docs('readyz') }, async (_request, reply) => {
    const { ready, checks } = await readiness.evaluate(options.readinessTimeoutMs ?? 2000);
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', checks });
  });

  app.get('/metrics', { ...unlimited, ...docs('metrics') }, async (_request, reply) =>
    reply.header('content-type', options.metrics.contentType).send(await options.metrics.metrics()),
  );

  return app;
}
