import {
  EphemeralBroker,
  freePort,
  isAlive,
  ServiceProcess,
  TcpProxy,
  testEndpoints,
  waitFor,
} from '../support';

const ENTRY = 'tests/integration/fixtures/sample-service.ts';

describe('a service process built from the platform', () => {
  it('when a config value is bad, then boot is refused with exit code 2 naming the variable', async () => {
    const service = ServiceProcess.start(ENTRY, { DATABASE_URL: 'mysql://nowhere/x', PORT: 'eighty' });
    const { code } = await service.exited;
    expect(code).toBe(2);
    expect(service.output).toMatch(/invalid configuration: .*DATABASE_URL/);
    expect(service.output).toMatch(/PORT/);
  });

  it('when its dependencies come up, then /readyz goes from 503 to 200, and SIGTERM exits cleanly', async () => {
    const endpoints = testEndpoints();
    const pg = new URL(endpoints.databaseUrl);
    const redis = new URL(endpoints.redisUrl);
    const postgresProxy = await TcpProxy.create({ host: pg.hostname, port: Number(pg.port || 5432) });
    const redisProxy = await TcpProxy.create({ host: redis.hostname, port: Number(redis.port || 6379) });
    const broker = await EphemeralBroker.create();
    pg.host = `127.0.0.1:${postgresProxy.port}`;
    redis.host = `127.0.0.1:${redisProxy.port}`;

    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const service = ServiceProcess.start(ENTRY, {
      PORT: String(port),
      KAFKA_BROKERS: broker.brokers.join(','),
      DATABASE_URL: pg.toString(),
      REDIS_URL: redis.toString(),
    });
    try {
      await service.waitUntilListening(baseUrl);
      const down = await fetch(`${baseUrl}/readyz`);
      expect(down.status).toBe(503);
      const downBody = (await down.json()) as { checks: Record<string, string> };
      expect(Object.keys(downBody.checks).sort()).toEqual(['kafka', 'postgres', 'redis']);
      for (const state of Object.values(downBody.checks)) expect(state).toMatch(/^unavailable/);

      await Promise.all([postgresProxy.open(), redisProxy.open(), broker.start()]);

      const up = await waitFor(
        async () => {
          const response = await fetch(`${baseUrl}/readyz`);
          return response.status === 200 ? response : undefined;
        },
        { timeoutMs: 60_000, description: '/readyz to answer 200' },
      );
      expect(await up.json()).toEqual({
        status: 'ready',
        checks: { kafka: 'ok', postgres: 'ok', redis: 'ok' },
      });

      const { code } = await service.stop('SIGTERM');
      expect(code).toBe(0);
      expect(service.output).toContain('shut down cleanly');
    } finally {
      await service.stop('SIGKILL');
      await Promise.all([postgresProxy.close(), redisProxy.close(), broker.destroy()]);
    }
  });

  it('when its supervisor is killed (SIGKILL), then it shuts down cleanly instead of living on as an orphan', async () => {
    const endpoints = testEndpoints();
    const port = await freePort();
    const supervisor = ServiceProcess.start('tests/integration/fixtures/supervisor.ts', {
      PORT: String(port),
      KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
      DATABASE_URL: endpoints.databaseUrl,
      REDIS_URL: endpoints.redisUrl,
    });
    const pid = await waitFor(
      () => Number(/supervising pid (\d+)/.exec(supervisor.output)?.[1]) || undefined,
      {
        description: 'the supervisor to start the service',
      },
    );
    try {
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok,
        {
          timeoutMs: 30_000,
          description: 'the service to listen',
        },
      );
      await supervisor.stop('SIGKILL');
      await waitFor(() => !isAlive(pid), { timeoutMs: 30_000, description: 'the orphaned service to exit' });
      expect(supervisor.output).toMatch(/"signal":"supervisor gone".*shutting down/);
      expect(supervisor.output).toContain('shut down cleanly');
      expect(await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined)).toBeUndefined();
    } finally {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});
