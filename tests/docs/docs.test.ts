import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { DEFAULT_CATALOGUE } from '@taobi/benefits';
import { TIERS, TOPICS } from '@taobi/contracts';
import { discoverServices } from '@taobi/infra/services';
import { createLogger, loadConfig, type Service } from '@taobi/platform';
import { DEFAULT_RULE_SET } from '@taobi/rules';

/**
 * Fails when docs/ is stale in ways a machine can check: a topic, route, error code, benefit or
 * tier threshold of the code that docs/design.md does not show (or an endpoint it shows that no
 * longer exists), a broken link or anchor, an ADR missing from the index, or a file outside docs/
 * still pointing at the first draft of the design.
 */
const ROOT = join(__dirname, '..', '..');
const DESIGN_PATH = join(ROOT, 'docs', 'design.md');
const design = readFileSync(DESIGN_PATH, 'utf8');
const ENDPOINT = /`(GET|POST|PUT|PATCH|DELETE) (\/[^\s`?]*)/g;

/** `METHOD /path` of every route a fastify app registered, HEAD excepted, read from printRoutes. */
function routesOf(app: Service['app']): Set<string> {
  const routes = new Set<string>();
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4;
    stack.length = depth;
    const path = stack.join('') + match[2];
    stack.push(match[2] ?? '');
    // `/docs/...` are the assets of the `/docs` page (@fastify/swagger-ui), documented as `GET /docs`.
    if (path.startsWith('/docs/')) continue;
    for (const method of (match[3] ?? '').split(', ').filter(Boolean)) {
      if (method !== 'HEAD') routes.add(`${method} ${path}`);
    }
  }
  return routes;
}

/** Every service under services/, built from its default config (no I/O: nothing connects). */
async function routesOfEveryService(): Promise<Map<string, Set<string>>> {
  const logger = createLogger({ name: 'docs-test', level: 'silent' });
  const result = new Map<string, Set<string>>();
  for (const info of discoverServices(ROOT)) {
    const app = (await import(join(info.dir, 'src', 'app.ts'))) as Record<string, unknown>;
    const config = (await import(join(info.dir, 'src', 'config.ts'))) as Record<string, unknown>;
    const build = Object.entries(app).find(
      ([name, v]) => name.startsWith('build') && typeof v === 'function',
    );
    const schema = Object.values(config).find(
      (v) => typeof (v as { safeParse?: unknown })?.safeParse === 'function',
    );
    if (!build || !schema) throw new Error(`${info.name}: no build function or config schema found`);
    const service = (await (build[1] as (c: unknown, l: unknown) => Service | Promise<Service>)(
      loadConfig(schema as Parameters<typeof loadConfig>[0], {}),
      logger,
    )) as Service;
    await service.app.ready();
    result.set(info.name, routesOf(service.app));
    await service.app.close();
    await service.stop();
  }
  return result;
}

/** The `### ` sections of design.md's "APIs" chapter: the services each names and its endpoints. */
function apiSections(): { services: string[]; endpoints: string[] }[] {
  const chapter = /^## APIs\n([\s\S]*?)^## /m.exec(design)?.[1] ?? '';
  return chapter
    .split(/^### /m)
    .slice(1)
    .map((section) => {
      const heading = section.split('\n')[0] ?? '';
      return {
        services: [...heading.matchAll(/`([a-z-]+)`/g)].map((m) => m[1] as string),
        endpoints: [...section.matchAll(ENDPOINT)].map((m) => `${m[1]} ${m[2]}`),
      };
    });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6} (.*)$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1] ?? '');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdownFiles(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

/** Every file of the repository, without dependencies, build output, caches and git's own. */
function repositoryFiles(dir: string): string[] {
  const skipped = new Set(['node_modules', '.git', '.cache', '.tools', 'dist', 'coverage']);
  return readdirSync(dir).flatMap((name) => {
    if (skipped.has(name)) return [];
    const path = join(dir, name);
    return statSync(path).isDirectory() ? repositoryFiles(path) : [path];
  });
}

describe('docs/design.md', () => {
  it('when a topic is in the contracts, then the design names it', () => {
    const missing = Object.values(TOPICS)
      .map((topic) => topic.name)
      .filter((name) => !design.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('when a service registers a route, then the design lists it under that service, and lists nothing else', async () => {
    const routes = await routesOfEveryService();
    const sections = apiSections();
    const common = sections.filter((s) => s.services.length === 0).flatMap((s) => s.endpoints);
    const problems: string[] = [];
    for (const [name, registered] of routes) {
      const own = sections.filter((s) => s.services.includes(name));
      if (own.length === 0) problems.push(`${name}: no section of its own under "APIs"`);
      const documented = new Set([...common, ...own.flatMap((s) => s.endpoints)]);
      for (const route of registered)
        if (!documented.has(route)) problems.push(`${name}: ${route} is not documented`);
      for (const endpoint of documented)
        if (!registered.has(endpoint)) problems.push(`${name}: ${endpoint} is documented but not registered`);
    }
    expect(routes.size).toBeGreaterThanOrEqual(7);
    expect(problems).toEqual([]);
  });

  it('when the code declares an error code, then the design lists it', () => {
    const sources = ['packages', 'services'].flatMap((top) =>
      repositoryFiles(join(ROOT, top)).filter(
        (file) => file.includes('/src/') && file.endsWith('.ts') && !file.endsWith('.test.ts'),
      ),
    );
    const codes = new Set(
      sources.flatMap((file) =>
        [...readFileSync(file, 'utf8').matchAll(/(?:new AppError|errorKind)\(\s*'([A-Z][A-Z0-9_]*)'/g)].map(
          (m) => m[1],
        ),
      ),
    );
    expect(codes.size).toBeGreaterThan(10);
    expect([...codes].filter((code) => !design.includes(`\`${code}\``))).toEqual([]);
  });

  it('when the catalogue gains a benefit, then the design lists its id', () => {
    const ids = DEFAULT_CATALOGUE.benefits.map((b) => b.id);
    expect(ids.filter((id) => !design.includes(`\`${id}\``))).toEqual([]);
  });

  it('when a tier threshold changes, then the design shows the new one', () => {
    const cells = (line: string) =>
      line
        .split('|')
        .map((cell) => cell.trim())
        .filter(Boolean);
    const row = design.split('\n').find((line) => cells(line)[0] === 'threshold') ?? '';
    expect(cells(row)).toEqual([
      'threshold',
      ...TIERS.map((t) => String(DEFAULT_RULE_SET.tiers.thresholds[t])),
    ]);
  });
});

describe('docs/ links and references', () => {
  it('when a doc links to a file or heading, then it exists', () => {
    const broken: string[] = [];
    for (const file of [...markdownFiles(join(ROOT, 'docs')), join(ROOT, 'README.md')]) {
      const text = readFileSync(file, 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (!target || /^[a-z]+:/.test(target)) continue;
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const resolved = path ? join(dirname(file), path) : file;
        const where = `${relative(ROOT, file)} -> ${target}`;
        if (!existsSync(resolved)) broken.push(`${where} (no such file)`);
        else if (anchor && resolved.endsWith('.md') && !anchorsOf(readFileSync(resolved, 'utf8')).has(anchor))
          broken.push(`${where} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('when an ADR is added, then the ADR index lists it', () => {
    const index = readFileSync(join(ROOT, 'docs', 'adr', 'README.md'), 'utf8');
    const records = readdirSync(join(ROOT, 'docs', 'adr')).filter((name) => /^\d{4}-.+\.md$/.test(name));
    expect(records.length).toBeGreaterThanOrEqual(5);
    expect(records.filter((name) => !index.includes(`](${name})`))).toEqual([]);
  });

  it('when a file outside docs/ cites the design, then it cites docs/, not the out-of-repo first draft', () => {
    const draft = ['DESIGN', 'md'].join('.');
    const citing = repositoryFiles(ROOT)
      .filter((file) => !relative(ROOT, file).startsWith('docs/'))
      .filter((file) => statSync(file).size < 2_000_000 && readFileSync(file, 'utf8').includes(draft))
      .map((file) => relative(ROOT, file));
    expect(citing).toEqual([]);
  });
});
