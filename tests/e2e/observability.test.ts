/**
 * What an SRE relies on: every metric the Grafana dashboard and the alert rules query is exported by
 * the running services (a renamed metric would leave a panel empty and an alert silent), `pnpm taobi
 * status` reads lag, outbox and DLQ from them, and promtool accepts the config and passes each
 * alert's unit test.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parsePrometheus, SERVICE_NAMES } from '@taobi/platform';
import {
  observabilityQueries,
  promqlMetricNames,
  REPO_ROOT,
  ServiceProcess,
  TestStack,
  waitFor,
} from '../support';

/** Series Prometheus makes itself, not the services. */
const PROMETHEUS_OWN = new Set(['up']);

const readyz = async (url: string) =>
  (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined))?.status;

describe('observability of a running stack', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start();
    await Promise.all(
      SERVICE_NAMES.map((service) =>
        waitFor(async () => (await readyz(stack.url(service))) === 200, {
          timeoutMs: 120_000,
          description: `${service} to be ready`,
        }),
      ),
    );
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('when the dashboard and the alert rules are read, then every metric they query is exported by a running service', async () => {
    const exported = new Map<string, string[]>();
    for (const service of SERVICE_NAMES) {
      const text = await (await fetch(`${stack.url(service)}/metrics`)).text();
      const { series, declared } = parsePrometheus(text);
      const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
      const names = new Set([...declared, ...series.map((s) => s.name)]);
      for (const name of declared) {
        // A histogram is queried through its _bucket, _count and _sum series (present once observed).
        if (types.get(name) === 'histogram')
          for (const suffix of ['_bucket', '_count', '_sum']) names.add(`${name}${suffix}`);
      }
      for (const name of names) exported.set(name, [...(exported.get(name) ?? []), service]);
    }

    const queries = observabilityQueries();
    const queried = queries.flatMap(({ where, expr }) =>
      promqlMetricNames(expr).map((name) => ({ where, name })),
    );
    // Not vacuous: the dashboard's panels and the six alerts query this many metrics between them.
    expect(queries.length).toBeGreaterThanOrEqual(25);
    expect(new Set(queried.map((q) => q.name)).size).toBeGreaterThanOrEqual(20);
    const missing = queried.filter(({ name }) => !PROMETHEUS_OWN.has(name) && !exported.has(name));
    expect(missing).toEqual([]);

    // And every Taobi metric the services export is documented, with its meaning, in docs/metrics.md.
    const documented = readFileSync(join(REPO_ROOT, 'docs/metrics.md'), 'utf8');
    const series = /_(bucket|count|sum)$/;
    const undocumented = [...exported.keys()].filter(
      (name) => name.startsWith('taobi_') && !documented.includes(`| \`${name.replace(series, '')}\``),
    );
    expect(undocumented).toEqual([]);
  });

  it('when pnpm taobi status runs, then it shows each service ready with its lag, outbox and DLQ; when a service is down, it exits 1 naming it', async () => {
    const run = async () => {
      const cli = ServiceProcess.start('packages/cli/src/main.ts', stack.urlEnv, ['status']);
      return { ...(await cli.exited), output: cli.output };
    };
    const healthy = await run();
    expect(healthy).toMatchObject({ code: 0 });
    expect(healthy.output).toMatch(/^service +state +lag +outbox +dlq +detail$/m);
    for (const service of SERVICE_NAMES)
      expect(healthy.output).toMatch(new RegExp(`^${service} +ready `, 'm'));
    // Consumers show their group's lag and DLQ count, services with an outbox its backlog.
    for (const service of ['scoring', 'tier', 'entitlement'])
      expect(healthy.output).toMatch(
        new RegExp(`^${service} +ready +\\d+ \\(\\S+\\) +\\d+ pending, oldest \\d+ s +\\d+`, 'm'),
      );
    expect(healthy.output).toMatch(/^ingest-food +ready +- +- +-$/m);

    await stack.kill('ingest-food');
    const down = await run();
    expect(down.code).toBe(1);
    expect(down.output).toMatch(/^ingest-food +down +- +\? +\? +\S/m);
    expect(down.output).toContain('not ready: ingest-food (down)');
  });
});

describe('the Prometheus config and alert rules', () => {
  it('when promtool checks them, then the config and the rules are valid and every alert unit test passes', async () => {
    const { stderr } = await promisify(execFile)('bash', ['infra/bin/promtool.sh'], {
      cwd: REPO_ROOT,
      timeout: 300_000,
    });
    expect(stderr).toContain('every alert');
    expect(stderr).toMatch(/Unit Testing: +alerts\.test\.yml\n +SUCCESS/);
  }, 320_000);
});
