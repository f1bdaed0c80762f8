import { randomUUID } from 'node:crypto';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  LogController,
} from 'fastify';
import { Histogram, type Registry } from 'prom-client';
import { AppError, Errors } from './errors';
import type { Logger } from './logger';

/** A named dependency probe: resolves when the dependency answers, rejects otherwise. */
export type ReadinessCheck = () => Promise<unknown>;

export interface HttpAppOptions {
  logger: Logger;
  metrics: Registry;
  /** Probed by `/readyz`; each must answer within `readinessTimeoutMs`. */
  readiness?: Record<string, ReadinessCheck>;
  readinessTimeoutMs?: number;
  bodyLimit?: number;
  /** Behind a reverse proxy: take the client's address and protocol from its X-Forwarded-* headers. */
  trustProxy?: boolean;
}

/** Fastify's own client errors, mapped onto our stable codes. */
function fromFastifyError(error: FastifyError): AppError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return Errors.payloadTooLarge();
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return Errors.unsupportedMediaType();
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return Errors.invalidJson('the request body is empty');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return Errors.invalidJson('the content-length header does not match the body');
    default:
      break;
  }
  if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return Errors.invalidJson('the request body is not valid JSON');
  }
  if (error.validation) {
    return Errors.validation(
      error.validation.map((v) => ({
        field: v.instancePath.replace(/^\//, '').replaceAll('/', '.'),
        message: v.message ?? 'invalid',
      })),
    );
  }
  if (error.statusCode === 429) return Errors.rateLimited(1);
  return undefined;
}

/**
 * The client-visible error a thrown value becomes (the error handler answers with it), or
 * undefined for an unexpected error (a plain 500). Exported so a route's `onError` hook can label
 * metrics with the same code the client sees.
 */
export function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (error instanceof Error) return fromFastifyError(error as FastifyError);
  return undefined;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Builds a fastify app with what every Taobi service serves: `/healthz`, `/readyz`, `/metrics`,
 * one error handler (stable codes, no internals leaked) and request metrics. It does not listen.
 */
export function createHttpApp(options: HttpAppOptions): FastifyInstance {
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps the app's type the default instance type.
    loggerInstance: options.logger as FastifyBaseLogger,
    // One line per request is logged by our onResponse hook (debug, or warn for 5xx) instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    trustProxy: options.trustProxy ?? false,
  });

  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [options.metrics],
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    duration.labels(request.method, route, String(reply.statusCode)).observe(reply.elapsedTime / 1000);
    const context = { reqId: request.id, method: request.method, route, status: reply.statusCode };
    if (reply.statusCode >= 500) request.log.warn(context, 'request failed');
    else request.log.debug(context, 'request served');
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error);
    if (!appError) {
      request.log.error({ err: error, reqId: request.id }, 'unhandled error');
      return reply.status(500).send(Errors.internal().toJSON());
    }
    if (appError.statusCode >= 500) {
      request.log.warn({ err: appError.cause ?? appError, code: appError.code }, appError.message);
    }
    return reply.status(appError.statusCode).headers(appError.headers).send(appError.toJSON());
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send(Errors.notFound(`no route for ${request.method} ${request.url.split('?')[0]}`).toJSON()),
  );

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const checks = Object.entries(options.readiness ?? {});
    const timeoutMs = options.readinessTimeoutMs ?? 2000;
    const results = await Promise.all(
      checks.map(async ([name, check]) => {
        try {
          await withTimeout(check(), timeoutMs);
          return [name, 'ok'] as const;
        } catch (error) {
          return [name, `unavailable: ${(error as Error).message}`] as const;
        }
      }),
    );
    const ready = results.every(([, state]) => state === 'ok');
    return reply
      .status(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'not-ready', checks: Object.fromEntries(results) });
  });

  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', options.metrics.contentType).send(await options.metrics.metrics()),
  );

  return app;
}
