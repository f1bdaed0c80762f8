import { createHttpApp, createMetricsRegistry, loadConfig, serviceUrlVariable } from '@taobi/platform';
import { testLogger } from '@taobi/tests';
import type { FastifyInstance } from 'fastify';
import { buildConsoleService, type ConsoleService } from '../src/app';
import { consoleConfigSchema, UPSTREAM_SERVICES, type UpstreamService } from '../src/config';

export const READ_KEY = 'test-read-key-0001';
export const ADMIN_KEY = 'test-admin-key-0001';
export const CONSOLE_READ_KEY = 'test-console-read-key';

export interface Call {
  service: string;
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
}

/**
 * Stand-ins for the other services, each under its own path prefix of one server built with the
 * platform's app factory (so an unknown route answers exactly as a real service does: 404 "no
 * route"). Each answers with a recorded shape of the real service's answer; every call is kept.
 */
export async function startFakeServices(
  routes: (app: FastifyInstance, prefix: (service: UpstreamService) => string) => void,
): Promise<{ url: string; calls: Call[]; close: () => Promise<void> }> {
  const logger = testLogger('fake-services');
  const app = createHttpApp({ logger, metrics: createMetricsRegistry('fake') });
  const calls: Call[] = [];
  app.addHook('onRequest', async (request) => {
    const [, service, ...rest] = request.url.split('/');
    calls.push({
      service: service as string,
      method: request.method,
      path: `/${rest.join('/')}`,
      authorization: request.headers.authorization,
      body: undefined,
    });
  });
  app.addHook('preHandler', async (request) => {
    const last = calls.at(-1);
    if (last) last.body = request.body;
  });
  routes(app, (service) => `/${service}`);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, calls, close: () => app.close() };
}

/** The console, listening on a free port, reading `servicesUrl/<service>` (or the given URLs). */
export async function startConsole(
  servicesUrl: string,
  env: Record<string, string> = {},
): Promise<{ service: ConsoleService; url: string }> {
  const urls = Object.fromEntries(
    UPSTREAM_SERVICES.map((service) => [serviceUrlVariable(service), `${servicesUrl}/${service}`]),
  );
  const config = loadConfig(consoleConfigSchema, {
    TAOBI_ENV: 'test',
    READ_API_KEYS: READ_KEY,
    ADMIN_API_KEYS: ADMIN_KEY,
    CONSOLE_READ_KEY,
    METRICS_SAMPLE_INTERVAL_MS: '60000',
    // Generous: the fake upstreams answer at once, but a loaded CI machine has taken over 2 s.
    UPSTREAM_TIMEOUT_MS: '10000',
    ...urls,
    ...env,
  });
  const service = await buildConsoleService(config, testLogger('console'));
  await service.start();
  await service.app.listen({ port: 0, host: '127.0.0.1' });
  const address = service.app.server.address() as { port: number };
  return { service, url: `http://127.0.0.1:${address.port}` };
}

/**
 * The console against stand-ins answering `routes`, started before the enclosing describe's tests
 * and closed after them. Read `url`, `calls` and `service` inside tests (they are set by then).
 */
export function consoleAgainst(
  routes: (app: FastifyInstance, prefix: (service: UpstreamService) => string) => void,
  env: Record<string, string> = {},
) {
  const handle = {
    url: '',
    calls: [] as Call[],
    service: undefined as unknown as ConsoleService,
  };
  let services: Awaited<ReturnType<typeof startFakeServices>> | undefined;
  beforeAll(async () => {
    services = await startFakeServices(routes);
    handle.calls = services.calls;
    ({ service: handle.service, url: handle.url } = await startConsole(services.url, env));
  });
  afterAll(async () => {
    await handle.service?.app.close();
    await handle.service?.stop();
    await services?.close();
  });
  return handle;
}
