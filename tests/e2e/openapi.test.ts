/**
 * Every service's OpenAPI document, as a real process serves it: valid OpenAPI 3.1 (swagger-parser),
 * every route documented with its answers, and real answers of every documented route (a success and
 * a client error each) valid against the document's schemas (ajv). A route added without a documented
 * answer, or not driven here, fails. Last, the probes asked while each service shuts down answer the
 * 503 their documents give.
 */
import { API_SERVICE_NAMES, type ApiServiceName, DEVELOPMENT_KEYS } from '@taobi/platform';
import { HeldRequest, ingestOrder, refusesConnections, TestStack, waitFor } from '../support';
import { OpenApiContract } from '../support/openapi';

const key = (role: keyof typeof DEVELOPMENT_KEYS) => ({ authorization: `Bearer ${DEVELOPMENT_KEYS[role]}` });
const READ = key('read');
const ADMIN = key('admin');
const SERVICES = API_SERVICE_NAMES;
type Service = ApiServiceName;

/** One documented call: the route as documented, the URL sent (default: the route), what it must answer. */
interface Call {
  method: string;
  path: string;
  url?: string;
  headers?: Record<string, string>;
  body?: unknown;
  expected: number;
}

describe('the OpenAPI documents of the services', () => {
  let stack: TestStack;
  const contracts = new Map<Service, OpenApiContract>();
  const problems: string[] = [];
  const member = `m-openapi-${Date.now()}`;

  async function call(service: Service, request: Call): Promise<unknown> {
    const contract = contracts.get(service) as OpenApiContract;
    const answer = await contract.call(stack.url(service), request.method, request.path, request);
    problems.push(...answer.problems);
    return answer.body;
  }

  /** The last lines each of `services` printed (for failure messages). */
  function tails(services: Service[]): string {
    return services.map((service) => `--- ${service}:\n${stack.output(service).slice(-3000)}`).join('\n');
  }

  beforeAll(async () => {
    // Seven processes start at once: on a loaded 2-core machine that takes more than a minute.
    stack = await TestStack.start({ services: [...SERVICES], readyTimeoutMs: 150_000 });
    for (const service of SERVICES)
      contracts.set(service, await OpenApiContract.load(service, stack.url(service)));
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('when each document is read, then it is valid OpenAPI 3.1, every route documents its answers, and /docs is served', async () => {
    for (const service of SERVICES) {
      const contract = contracts.get(service) as OpenApiContract;
      expect([service, contract.document.openapi]).toEqual([service, '3.1.0']);
      expect([service, contract.undocumented()]).toEqual([service, []]);
      const page = await fetch(`${stack.url(service)}/docs/`);
      expect([service, page.status, page.headers.get('content-type')]).toEqual([
        service,
        200,
        expect.stringContaining('text/html'),
      ]);
    }
  });

  it('when every documented route is called, then its success and error answers are as documented', async () => {
    // Operations every service serves, without a key. A readiness check may miss its 2 s on a
    // loaded machine (503, as documented): /readyz is asked until it answers 200 as documented.
    for (const service of SERVICES) {
      await call(service, { method: 'GET', path: '/healthz', expected: 200 });
      const contract = contracts.get(service) as OpenApiContract;
      let ready: string[] = [];
      await waitFor(
        async () => {
          ready = (await contract.call(stack.url(service), 'GET', '/readyz', { expected: 200 })).problems;
          return ready.length === 0;
        },
        { timeoutMs: 30_000, intervalMs: 500, description: `${service} /readyz to answer 200` },
      ).catch((error: Error) => problems.push(`${service}: ${error.message}`, ...ready));
      await call(service, { method: 'GET', path: '/metrics', expected: 200 });
    }

    // Ingest: an order accepted, one refused.
    for (const service of SERVICES.filter((s) => s.startsWith('ingest-'))) {
      const source = service.slice('ingest-'.length);
      const order = {
        ecommerce: ingestOrder({ memberId: member, channel: 'taobao', category: 'physical' }),
        food: ingestOrder({ memberId: member, channel: 'eleme', category: 'meal' }),
        travel: ingestOrder({ memberId: member, channel: 'fliggy', category: 'hotel' }),
        mobility: ingestOrder({ memberId: member, channel: 'ride-hailing', category: 'ride' }),
      }[source];
      const headers = { authorization: `Bearer dev-${source}-key` };
      await call(service, { method: 'POST', path: '/v1/events', headers, body: order, expected: 202 });
      await call(service, {
        method: 'POST',
        path: '/v1/events',
        headers,
        body: { ...order, amount: -1 },
        expected: 400,
      });
    }

    // Scoring.
    await waitFor(
      async () => {
        const response = await fetch(`${stack.url('scoring')}/v1/members/${member}/score`, { headers: READ });
        return ((await response.json()) as { version: number }).version > 0;
      },
      { description: 'scoring to count the orders' },
    );
    const m = (path: string) => path.replace(':id', member);
    for (const path of [
      '/v1/members/:id/score',
      '/v1/members/:id/score/history',
      '/v1/members/:id/score/versions',
    ]) {
      await call('scoring', { method: 'GET', path, url: m(path), headers: READ, expected: 200 });
      await call('scoring', {
        method: 'GET',
        path,
        url: `${m(path)}?limit=0&asOf=x`,
        headers: READ,
        expected: 400,
      });
    }
    await call('scoring', {
      method: 'GET',
      path: '/v1/members/:id/score',
      url: `${m('/v1/members/:id/score')}?asOf=${encodeURIComponent(new Date().toISOString())}`,
      headers: READ,
      expected: 200,
    });
    await call('scoring', { method: 'GET', path: '/v1/rules', headers: READ, expected: 200 });
    await call('scoring', {
      method: 'GET',
      path: '/v1/rules',
      url: '/v1/rules?asOf=1900-01-01T00:00:00Z',
      headers: READ,
      expected: 404,
    });
    const versions = (await call('scoring', {
      method: 'GET',
      path: '/v1/rules/versions',
      headers: READ,
      expected: 200,
    })) as {
      versions: { version: string; score: unknown; tiers: unknown; evaluation: unknown }[];
    };
    const inForce = versions.versions[0] as (typeof versions.versions)[number];
    const nextYear = new Date(Date.now() + 365 * 86_400_000).toISOString();
    await call('scoring', {
      method: 'POST',
      path: '/v1/admin/rule-sets',
      headers: ADMIN,
      body: { effectiveFrom: nextYear },
      expected: 400,
    });
    await call('scoring', {
      method: 'POST',
      path: '/v1/admin/rule-sets',
      headers: ADMIN,
      body: {
        ruleSet: {
          version: `openapi-${Date.now()}`,
          score: inForce.score,
          tiers: inForce.tiers,
          evaluation: inForce.evaluation,
        },
        effectiveFrom: nextYear,
      },
      expected: 201,
    });
    await call('scoring', {
      method: 'POST',
      path: '/v1/admin/evaluations',
      headers: ADMIN,
      body: {},
      expected: 200,
    });
    await call('scoring', {
      method: 'POST',
      path: '/v1/admin/evaluations',
      headers: ADMIN,
      body: { asOf: 'x' },
      expected: 400,
    });
    await call('scoring', { method: 'GET', path: '/v1/admin/evaluations', headers: ADMIN, expected: 200 });
    await call('scoring', { method: 'POST', path: '/v1/admin/rebuild', headers: ADMIN, expected: 200 });
    await call('scoring', {
      method: 'POST',
      path: '/v1/admin/read-model/refill',
      headers: ADMIN,
      expected: 200,
    });
    const started = (await call('scoring', {
      method: 'POST',
      path: '/v1/admin/backtests',
      headers: ADMIN,
      body: { name: 'openapi', ruleSet: {} },
      expected: 202,
    })) as { id: string };
    await call('scoring', {
      method: 'POST',
      path: '/v1/admin/backtests',
      headers: ADMIN,
      body: {},
      expected: 400,
    });
    await call('scoring', { method: 'GET', path: '/v1/admin/backtests', headers: ADMIN, expected: 200 });
    const backtest = '/v1/admin/backtests/:id';
    // Read once it has completed, so that its whole report is held to the documented schema.
    await waitFor(
      async () => {
        const response = await fetch(`${stack.url('scoring')}/v1/admin/backtests/${started.id}`, {
          headers: ADMIN,
        });
        return ((await response.json()) as { status: string }).status === 'completed';
      },
      { description: 'the backtest to complete' },
    );
    const report = (await call('scoring', {
      method: 'GET',
      path: backtest,
      url: `/v1/admin/backtests/${started.id}`,
      headers: ADMIN,
      expected: 200,
    })) as Record<string, unknown>;
    expect(Object.keys(report)).toEqual(
      expect.arrayContaining(['baseline', 'candidate', 'moves', 'liability', 'samples', 'candidateRuleSet']),
    );
    await call('scoring', {
      method: 'GET',
      path: backtest,
      url: '/v1/admin/backtests/nope',
      headers: ADMIN,
      expected: 400,
    });

    // Tier.
    await waitFor(
      async () => {
        const response = await fetch(`${stack.url('tier')}/v1/members/${member}/tier`, { headers: READ });
        return ((await response.json()) as { since: string | null }).since !== null;
      },
      { description: 'tier to place the member' },
    );
    await call('tier', { method: 'GET', path: '/v1/tiers', headers: READ, expected: 200 });
    await call('tier', { method: 'GET', path: '/v1/tiers/distribution', headers: READ, expected: 200 });
    for (const path of ['/v1/members/:id/tier', '/v1/members/:id/tier/history', '/v1/members/:id/forecast']) {
      await call('tier', { method: 'GET', path, url: m(path), headers: READ, expected: 200 });
      await call('tier', {
        method: 'GET',
        path,
        url: path.replace(':id', 'bad!id'),
        headers: READ,
        expected: 400,
      });
    }
    const asOf = new Date().toISOString();
    await call('tier', {
      method: 'POST',
      path: '/v1/admin/evaluations',
      headers: ADMIN,
      body: { asOf },
      expected: 200,
    });
    await call('tier', {
      method: 'POST',
      path: '/v1/admin/evaluations',
      headers: ADMIN,
      body: {},
      expected: 400,
    });
    await call('tier', { method: 'GET', path: '/v1/admin/evaluations', headers: ADMIN, expected: 200 });
    const evaluation = '/v1/admin/evaluations/:asOf';
    await call('tier', {
      method: 'GET',
      path: evaluation,
      url: `/v1/admin/evaluations/${encodeURIComponent(asOf)}`,
      headers: ADMIN,
      expected: 200,
    });
    await call('tier', {
      method: 'GET',
      path: evaluation,
      url: '/v1/admin/evaluations/2001-01-01T00:00:00Z',
      headers: ADMIN,
      expected: 404,
    });

    // Entitlement.
    const e = (path: string) => ({ path, url: m(path), headers: READ });
    await waitFor(
      async () => {
        const response = await fetch(`${stack.url('entitlement')}/v1/members/${member}/welcome-gift`, {
          headers: READ,
        });
        return ((await response.json()) as { draws: unknown[] }).draws.length > 0;
      },
      { timeoutMs: 60_000, description: 'entitlement to learn the member' },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${tails(['scoring', 'tier', 'entitlement'])}`);
    });
    await call('entitlement', { method: 'GET', path: '/v1/benefits', headers: READ, expected: 200 });
    for (const path of [
      '/v1/members/:id/entitlements',
      '/v1/members/:id/vip88',
      '/v1/members/:id/welcome-gift',
      '/v1/members/:id/offers',
    ]) {
      await call('entitlement', { method: 'GET', ...e(path), expected: 200 });
      await call('entitlement', {
        method: 'GET',
        ...e(path),
        url: path.replace(':id', 'bad!id'),
        expected: 400,
      });
    }
    const grants = (await call('entitlement', {
      method: 'GET',
      ...e('/v1/members/:id/entitlements'),
      expected: 200,
    })) as { entitlements: { id: string; status: string }[] };
    const grant = grants.entitlements.find((g) => g.status === 'granted');
    const use = '/v1/members/:id/entitlements/:entitlementId/use';
    const CHECKOUT = key('checkout');
    if (grant) {
      await call('entitlement', {
        method: 'POST',
        path: use,
        url: m(use).replace(':entitlementId', grant.id),
        headers: CHECKOUT,
        expected: 200,
      });
    } else problems.push(`entitlement: ${member} has no grant to use`);
    await call('entitlement', {
      method: 'POST',
      path: use,
      url: m(use).replace(':entitlementId', '999999999'),
      headers: CHECKOUT,
      expected: 404,
    });
    const activations = '/v1/members/:id/vip88/activations';
    await call('entitlement', {
      method: 'POST',
      path: activations,
      url: m(activations),
      headers: { ...CHECKOUT, 'idempotency-key': `openapi-${member}` },
      expected: 201,
    });
    await call('entitlement', {
      method: 'POST',
      path: activations,
      url: m(activations),
      headers: CHECKOUT,
      expected: 400,
    });
    const welcome = (await call('entitlement', {
      method: 'GET',
      ...e('/v1/members/:id/welcome-gift'),
      expected: 200,
    })) as {
      draws: { drawId: string }[];
    };
    const drawPath = '/v1/lottery/draws/:drawId';
    await call('entitlement', {
      method: 'GET',
      path: drawPath,
      url: `/v1/lottery/draws/${welcome.draws[0]?.drawId}`,
      headers: READ,
      expected: 200,
    });
    await call('entitlement', {
      method: 'GET',
      path: drawPath,
      url: '/v1/lottery/draws/nope',
      headers: READ,
      expected: 400,
    });
    await call('entitlement', {
      method: 'GET',
      path: '/v1/lottery/commitments',
      headers: READ,
      expected: 200,
    });
    await call('entitlement', {
      method: 'GET',
      path: '/v1/lottery/commitments',
      url: '/v1/lottery/commitments?limit=0',
      headers: READ,
      expected: 400,
    });
    const MERCHANT = key('merchant');
    const offer = (title: string) => ({
      title,
      percentOff: 10,
      validFrom: new Date(Date.now() - 60_000).toISOString(),
      validTo: new Date(Date.now() + 86_400_000).toISOString(),
      budget: 5,
    });
    const redeemable = (await call('entitlement', {
      method: 'POST',
      path: '/v1/offers',
      headers: MERCHANT,
      body: offer('redeemable'),
      expected: 201,
    })) as { id: string };
    const withdrawable = (await call('entitlement', {
      method: 'POST',
      path: '/v1/offers',
      headers: MERCHANT,
      body: offer('withdrawable'),
      expected: 201,
    })) as { id: string };
    await call('entitlement', {
      method: 'POST',
      path: '/v1/offers',
      headers: MERCHANT,
      body: {},
      expected: 400,
    });
    await call('entitlement', { method: 'GET', path: '/v1/offers', headers: MERCHANT, expected: 200 });
    await call('entitlement', {
      method: 'GET',
      path: '/v1/offers',
      url: '/v1/offers?limit=0',
      headers: MERCHANT,
      expected: 400,
    });
    const redemptions = '/v1/members/:id/offers/:offerId/redemptions';
    await call('entitlement', {
      method: 'POST',
      path: redemptions,
      url: m(redemptions).replace(':offerId', redeemable.id),
      headers: { ...CHECKOUT, 'idempotency-key': `openapi-redeem-${member}` },
      expected: 201,
    });
    await call('entitlement', {
      method: 'POST',
      path: redemptions,
      url: m(redemptions).replace(':offerId', '00000000-0000-4000-8000-000000000000'),
      headers: { ...CHECKOUT, 'idempotency-key': `openapi-none-${member}` },
      expected: 404,
    });
    const withdraw = '/v1/offers/:offerId';
    await call('entitlement', {
      method: 'DELETE',
      path: withdraw,
      url: `/v1/offers/${withdrawable.id}`,
      headers: MERCHANT,
      expected: 200,
    });
    await call('entitlement', {
      method: 'DELETE',
      path: withdraw,
      url: '/v1/offers/00000000-0000-4000-8000-000000000000',
      headers: MERCHANT,
      expected: 404,
    });
    await call('entitlement', {
      method: 'POST',
      path: '/v1/admin/periodic-grants',
      headers: ADMIN,
      body: {},
      expected: 200,
    });
    await call('entitlement', {
      method: 'POST',
      path: '/v1/admin/periodic-grants',
      headers: ADMIN,
      body: { period: 'x' },
      expected: 400,
    });
    await call('entitlement', {
      method: 'POST',
      path: '/v1/admin/vip88-term-ends',
      headers: ADMIN,
      expected: 200,
    });
    await call('entitlement', {
      method: 'POST',
      path: '/v1/admin/vip88-term-ends',
      headers: ADMIN,
      body: { a: 1 },
      expected: 400,
    });

    // Every keyed route refuses a call without a key, in the documented error body.
    for (const service of SERVICES) {
      const contract = contracts.get(service) as OpenApiContract;
      for (const operation of contract.operations()) {
        const [method, path] = operation.split(' ') as [string, string];
        if (!contract.document.paths[path]?.[method.toLowerCase()]?.responses?.['401']) continue;
        await call(service, { method, path, url: path.replace(/\{(\w+)\}/g, '$1-1'), expected: 401 });
      }
    }

    expect(problems).toEqual([]);
    expect(
      SERVICES.flatMap((service) =>
        (contracts.get(service) as OpenApiContract).unchecked().map((operation) => `${service} ${operation}`),
      ),
    ).toEqual([]);
  });

  // Last: it stops the stack's services.
  it('when the probes are asked while each service shuts down, then they answer 503 SERVICE_UNAVAILABLE as documented', async () => {
    const probes = ['/healthz', '/readyz', '/metrics'];
    const held = new Map<Service, HeldRequest[]>();
    const port = (service: Service) => Number(new URL(stack.url(service)).port);
    const undocumented: string[] = [];
    try {
      for (const service of SERVICES) {
        held.set(service, await Promise.all(probes.map(() => HeldRequest.open(port(service)))));
      }
      // SIGTERM: each service runs its preClose hooks (from then on it refuses every request), then
      // takes no new connection and waits for the ones in flight, such as those held here.
      const exits = SERVICES.map((service) => stack.exited(service));
      const stopped = SERVICES.map((service) => stack.kill(service));
      const answers = await Promise.all(
        SERVICES.map(async (service) => {
          await waitFor(() => refusesConnections(port(service)), {
            timeoutMs: 30_000,
            description: `${service} to begin closing`,
          });
          const connections = held.get(service) as HeldRequest[];
          return Promise.all(
            probes.map(async (path, i) => {
              const answer = await (connections[i] as HeldRequest).followWith(path);
              const body = answer ? JSON.parse(answer.body) : undefined;
              const contract = contracts.get(service) as OpenApiContract;
              undocumented.push(...(answer ? contract.problems('GET', path, answer.status, body) : []));
              return [service, path, answer?.status, body?.error?.code, answer?.headers['retry-after']];
            }),
          );
        }),
      );
      expect(answers.flat()).toEqual(
        SERVICES.flatMap((service) => probes.map((path) => [service, path, 503, 'SERVICE_UNAVAILABLE', '5'])),
      );
      expect(undocumented).toEqual([]);
      // Each finished what it held and shut down cleanly.
      await Promise.all(stopped);
      const unclean = (await Promise.all(exits)).flatMap((exit, i) =>
        exit.code === 0 && exit.signal === null ? [] : [`${SERVICES[i]} ${JSON.stringify(exit)}`],
      );
      // Why, if not: what each of them printed last (the stack logs warnings and errors).
      expect([unclean, tails(unclean.map((line) => line.split(' ')[0] as Service))]).toEqual([[], '']);
    } finally {
      for (const connections of held.values()) for (const connection of connections) connection.close();
    }
  }, 120_000);
});
