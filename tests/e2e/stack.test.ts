/**
 * `npm start`'s supervisor (infra/src/stack.ts) as an operator meets it: every service up and
 * announced, a crashed service restarted and reported, Ctrl-C stopping everything it started.
 * It runs beside any other stack: ports moved by TAOBI_PORT_OFFSET, topics and groups prefixed, and
 * `npm run demo` given the same two variables runs against it.
 */
import {
  ConsoleSession,
  createTestDatabase,
  createTestTopics,
  isAlive,
  ServiceProcess,
  uniqueId,
  waitFor,
} from '../support';

describe('the npm start supervisor', () => {
  it('when the demo runs against it, then it completes; when a service is killed, then it is restarted and reported; when Ctrl-C comes, then every service stops and the supervisor exits 0', async () => {
    const { prefix } = await createTestTopics();
    const database = await createTestDatabase();
    const offset = 20_000 + Math.floor(Math.random() * 400) * 10;
    const side = { TAOBI_PORT_OFFSET: String(offset), KAFKA_TOPIC_PREFIX: prefix };
    const supervisor = ServiceProcess.start('infra/src/stack.ts', {
      ...side,
      DATABASE_URL: database.url,
      REDIS_KEY_PREFIX: `${uniqueId('stack')}:`,
      TAOBI_STARTED_INFRA: '',
      LOG_LEVEL: 'warn',
      // A tight HTTP limit (every route but ingest's POST, which has its own per key): the demo's
      // reads go over it and must wait out the 429s, as a client of the real limit does (its
      // default 1,000 a second failed the 3,000-member demo before the CLI waited them out).
      HTTP_RATE_LIMIT_MAX: '25',
    });
    let demo: ServiceProcess | undefined;
    try {
      // The line after the service map: the map's lines may reach us after its heading.
      await waitFor(() => supervisor.output.includes('Every service serves /healthz'), {
        timeoutMs: 120_000,
        description: `the service map (output so far:\n${supervisor.output.slice(-2000)})`,
      });
      const map = [
        ...supervisor.output.matchAll(/\[stack\]\s+(\S+)\s+http:\/\/127\.0\.0\.1:(\d+)\s+\(pid (\d+)\)/g),
      ];
      const services = new Map(
        map.map(([, name, port, pid]) => [name as string, { port: Number(port), pid: Number(pid) }]),
      );
      expect([...services.keys()].sort()).toEqual([
        'console',
        'entitlement',
        'ingest-ecommerce',
        'ingest-food',
        'ingest-mobility',
        'ingest-travel',
        'scoring',
        'tier',
      ]);
      expect(services.get('scoring')?.port).toBe(8085 + offset);
      expect(supervisor.output).toContain('Development keys: ecommerce=dev-ecommerce-key');
      // The console is announced, and finds every other service at the moved ports.
      const consoleUrl = `http://127.0.0.1:${8088 + offset}`;
      expect(supervisor.output).toContain(`Web console: ${consoleUrl}  (sign in with dev-read-key`);
      const operator = await ConsoleSession.signIn(consoleUrl, 'dev-read-key');
      expect((await operator.get('/programme/live')).text).toContain('7 of 7 ready');

      // `npm run demo` with the side stack's environment: it finds the moved ports and waits on the
      // prefixed consumer groups, so every wait completes (it used to wait on unprefixed groups).
      demo = ServiceProcess.start('packages/cli/src/main.ts', side, ['demo', '--members', '40']);
      const { code: demoCode } = await demo.exited;
      // 40 members cannot fill all six tiers, so the verdict may be 1; anything else is a failure.
      if (demoCode !== 0 && demoCode !== 1)
        throw new Error(`the demo exited ${demoCode}:\n${demo.output.slice(-3000)}`);
      expect(demo.output).not.toContain('no progress for');
      expect(demo.output).toMatch(/lag 0 records/);
      expect(demo.output).toContain('8. End-to-end latency');
      expect(demo.output).toMatch(/sample breakdowns add up: yes/);

      const scoring = services.get('scoring') as { port: number; pid: number };
      process.kill(scoring.pid, 'SIGKILL');
      await waitFor(() => /scoring exited \(SIGKILL\); restart #1/.test(supervisor.output), {
        description: 'the crash to be reported',
      });
      await waitFor(
        async () =>
          (await fetch(`http://127.0.0.1:${scoring.port}/readyz`).catch(() => undefined))?.status === 200,
        { timeoutMs: 60_000, description: 'scoring to be back' },
      );

      const { code } = await supervisor.stop('SIGINT');
      expect(code).toBe(0);
      expect(supervisor.output).toContain('[stack] stopped.');
      for (const [name, { port }] of services) {
        const answer = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        expect([name, answer?.status]).toEqual([name, undefined]);
      }
      for (const { pid } of services.values()) expect(isAlive(pid)).toBe(false);
    } finally {
      await demo?.stop('SIGKILL');
      await supervisor.stop('SIGKILL');
      await database.drop();
    }
    // Eight services booting at once, a restart, then a small demo: longer than jest's default on a
    // busy machine (the service map alone may take up to the 2 minutes waited for above).
  }, 300_000);
});
