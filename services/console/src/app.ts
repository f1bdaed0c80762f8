import fastifyHelmet from '@fastify/helmet';
import {
  assertNoDevelopmentKeys,
  createHttpApp,
  createMetricsRegistry,
  httpRateLimit,
  type Logger,
  type Service,
  toAppError,
} from '@taobi/platform';
import type { FastifyError, FastifyInstance } from 'fastify';
import { operatorOf, registerSessions, toSignIn } from './auth/session';
import { type ConsoleConfig, upstreamUrls } from './config';
import { registerAssets } from './http/assets';
import { registerAuthRoutes } from './http/auth-routes';
import { registerBacktestRoutes } from './http/backtest-routes';
import { registerJobRoutes } from './http/job-routes';
import { registerPageRoutes } from './http/page-routes';
import { isFragmentRequest, sendHtml, sendPage } from './http/render';
import { createMetricsSampler, type MetricsSampler } from './metrics/sampler';
import { createUpstream, type Upstream } from './upstream/api';
import { toneStyle } from './views/format';
import { html } from './views/html';

export interface ConsoleService extends Service {
  upstream: Upstream;
  sampler: MetricsSampler;
}

const CSRF_CODES = new Set(['FST_CSRF_INVALID_TOKEN', 'FST_CSRF_MISSING_SECRET']);

/** Errors as pages (or fragments for htmx), with the status the platform would give them. */
function setHtmlErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    let status: number;
    let message: string;
    if (CSRF_CODES.has(error.code)) {
      status = 403;
      message =
        'This form was not sent from a page of your current session (its CSRF token is missing or wrong). Reload the page and try again.';
    } else {
      const appError = toAppError(error);
      status = appError?.statusCode ?? 500;
      message = appError?.message ?? 'Something went wrong in the console; the log has the details.';
      if (!appError) request.log.error({ err: error }, 'unhandled error');
    }
    const notice = html`<div class="notice" style="${toneStyle('error')}" role="alert" data-status="${status}"><strong>${status === 403 ? 'Refused' : 'Error'} (${status})</strong><p>${message}</p></div>`;
    if (isFragmentRequest(request)) return sendHtml(reply, notice, status);
    return sendPage(request, reply, { title: 'Error', section: 'none', body: notice }, status);
  });
}

/**
 * The web console: HTML pages over the other services' public HTTP APIs (never their databases).
 * Operators sign in with a read or admin key, held in a server-side session; every POST carries the
 * session's CSRF token; admin jobs run with the operator's admin key. It does not listen.
 */
export async function buildConsoleService(config: ConsoleConfig, logger: Logger): Promise<ConsoleService> {
  assertNoDevelopmentKeys(config.TAOBI_ENV, {
    READ_API_KEYS: config.READ_API_KEYS,
    ADMIN_API_KEYS: config.ADMIN_API_KEYS,
    CONSOLE_READ_KEY: [config.CONSOLE_READ_KEY],
  });
  const registry = createMetricsRegistry('console');
  const upstream = createUpstream({
    urls: upstreamUrls(config),
    readKey: config.CONSOLE_READ_KEY,
    timeoutMs: config.UPSTREAM_TIMEOUT_MS,
    logger,
  });
  const sampler = createMetricsSampler({ upstream, intervalMs: config.METRICS_SAMPLE_INTERVAL_MS, logger });

  const app = createHttpApp({
    logger,
    metrics: registry,
    trustProxy: config.TRUST_PROXY,
    rateLimit: httpRateLimit(config),
  });
  await app.register(async (site) => {
    await site.register(fastifyHelmet, {
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:'],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          upgradeInsecureRequests: null,
        },
      },
      // Served over plain HTTP on the local stack; a TLS proxy in front sets HSTS itself.
      strictTransportSecurity: false,
    });
    await registerSessions(site, {
      readKeys: config.READ_API_KEYS,
      adminKeys: config.ADMIN_API_KEYS,
      secret: config.SESSION_SECRET,
      ttlMinutes: config.SESSION_TTL_MINUTES,
      secure: config.COOKIE_SECURE ?? config.TAOBI_ENV === 'production',
    });
    setHtmlErrorHandler(site);
    // Every POST, signed in or not (the sign-in form too), carries the session's CSRF token.
    site.addHook('preHandler', (request, reply, done) => {
      if (request.method === 'POST') return site.csrfProtection(request, reply, done);
      done();
    });
    await registerAssets(site);
    registerAuthRoutes(site, { readKeys: config.READ_API_KEYS, adminKeys: config.ADMIN_API_KEYS });
    await site.register(async (signedIn) => {
      signedIn.addHook('preHandler', async (request, reply) => {
        if (!operatorOf(request)) return toSignIn(request, reply);
      });
      registerPageRoutes(signedIn, { upstream, sampler });
      registerJobRoutes(signedIn, { upstream });
      await registerBacktestRoutes(signedIn, { upstream });
    });
  });

  return {
    app,
    upstream,
    sampler,
    async start() {
      sampler.start();
    },
    async stop() {
      sampler.stop();
    },
  };
}
