/// <reference lib="dom" />
/**
 * The web console in a real headless Chromium (Debian's), against every service as a process:
 * members' orders go in through the ingest APIs; what the console renders must equal what the
 * services' APIs answer. One stack and one browser for the file; each test its own browser context
 * (its own cookies). Screenshots go to .cache/screenshots, or with UPDATE_SCREENSHOTS=1 the member,
 * programme and backtest views to docs/screenshots (the README's).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEVELOPMENT_KEYS } from '@taobi/platform';
import type { Browser, Page } from 'puppeteer-core';
import { REPO_ROOT, TestStack, waitFor } from '../support';
import { launchBrowser } from '../support/browser';
import { Client, type Order, order } from './e2e-kit';

const SCRATCH = join(REPO_ROOT, '.cache/screenshots');
/** The README's screenshots are refreshed on demand only: every run would change the files. */
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS ? join(REPO_ROOT, 'docs/screenshots') : SCRATCH;
const MEMBER = 'm-10001';

/** The shoppers of this stack: one followed closely, and others to fill the distribution. */
function orders(): { orders: Order[]; members: string[] } {
  const all: Order[] = [];
  const times = (n: number, make: () => Order) => Array.from({ length: n }, make);
  // The member of the member view: spending on every line, Gold and close to Platinum.
  all.push(
    ...times(3, () => order(MEMBER, 'ecommerce', 'physical', 4000, 0)),
    ...times(3, () => order(MEMBER, 'ecommerce', 'physical', 4000, 1)),
    ...times(6, () => order(MEMBER, 'food', 'meal', 80, 0)),
    ...times(2, () => order(MEMBER, 'travel', 'hotel', 2000, 1)),
    ...times(5, () => order(MEMBER, 'mobility', 'ride', 40, 0)),
  );
  const members = [MEMBER];
  const shopper = (id: string, monthly: number, months: number) => {
    members.push(id);
    for (let m = 0; m < months; m += 1)
      all.push(...times(monthly, () => order(id, 'ecommerce', 'physical', 4000, m)));
  };
  for (const i of [1, 2, 3, 4]) {
    members.push(`m-2000${i}`);
    all.push(order(`m-2000${i}`, 'ecommerce', 'physical', 40, 0));
  }
  for (const i of [1, 2, 3]) shopper(`m-3000${i}`, 2, 1);
  shopper('m-40001', 2, 2);
  shopper('m-50001', 3, 3);
  return { orders: all, members };
}

describe('the web console in a browser (every service as a process)', () => {
  let stack: TestStack;
  let client: Client;
  let browser: Browser;
  let consoleUrl: string;
  let posted: number;
  let members: string[];

  beforeAll(async () => {
    for (const dir of [SCRATCH, SCREENSHOTS]) mkdirSync(dir, { recursive: true });
    stack = await TestStack.start({ env: { METRICS_SAMPLE_INTERVAL_MS: '1000' } });
    client = new Client(stack);
    consoleUrl = stack.url('console');
    const plan = orders();
    members = plan.members;
    posted = (await client.ingestOrders(plan.orders)).length;
    // Settled: every member is in the distribution, the member of the member view has reached Gold
    // (scoring folds the posted orders over several batches, and the three services agree at each
    // step on the way), and tier and entitlement agree with scoring.
    await waitFor(
      async () => {
        const distribution = await client.read('tier', '/v1/tiers/distribution');
        if (distribution.total !== members.length) return false;
        const [score, tier, vip] = await Promise.all([
          client.read('scoring', `/v1/members/${MEMBER}/score`),
          client.read('tier', `/v1/members/${MEMBER}/tier`),
          client.read('entitlement', `/v1/members/${MEMBER}/vip88`),
        ]);
        return (
          tier.tier === 'GOLD' &&
          score.score === tier.score &&
          tier.scoreVersion === score.version &&
          vip.tier === tier.tier
        );
      },
      { timeoutMs: 60_000, description: 'every member scored, tiered and entitled' },
    );
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** A fresh browser context (no cookies), signed in through the form with the keyboard only. */
  async function signedIn(key: string, width = 1280): Promise<Page> {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    await page.setViewport({ width, height: 900 });
    await page.goto(`${consoleUrl}/members`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await page.screenshot({ path: join(SCRATCH, `console-sign-in-${width}.png`) });
    await page.focus('#key');
    await page.keyboard.type(key);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    expect(new URL(page.url()).pathname).toBe('/members');
    return page;
  }

  const text = (page: Page, selector: string) => page.$eval(selector, (el) => el.textContent?.trim() ?? '');
  const digits = (value: string) => Number(value.replace(/[^0-9]/g, ''));
  const tierOf = (label: string) => label.toUpperCase().replaceAll(' ', '_');

  /** Every control has an accessible name; nothing is wider than the window. */
  async function expectAccessibleAndFitting(page: Page, width: number) {
    const unlabelled = await page.$$eval('input:not([type=hidden]), select, textarea, button', (controls) =>
      controls
        .filter((c) => {
          const labels = (c as HTMLInputElement).labels;
          return !(labels && labels.length > 0) && !c.getAttribute('aria-label') && !c.textContent?.trim();
        })
        .map((c) => c.outerHTML),
    );
    expect(unlabelled).toEqual([]);
    // Charts resize on a ResizeObserver after the viewport changes: give the layout 5 s to fit,
    // then report the width it has.
    await page
      .waitForFunction((w) => document.documentElement.scrollWidth <= w, { timeout: 5_000 }, width)
      .catch(() => undefined);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
  }

  it("when an operator looks a member up, then the score, tier and next-tier progress on the page are the APIs' answers", async () => {
    const page = await signedIn(DEVELOPMENT_KEYS.read);
    await page.focus('#member-id');
    await page.keyboard.type(MEMBER);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);

    const [score, tier, table, entitlements] = await Promise.all([
      client.read('scoring', `/v1/members/${MEMBER}/score`),
      client.read('tier', `/v1/members/${MEMBER}/tier`),
      client.read('tier', '/v1/tiers'),
      client.read('entitlement', `/v1/members/${MEMBER}/entitlements?limit=200`),
    ]);
    expect(tier.next).not.toBeNull();
    expect(digits(await text(page, '[data-field=score]'))).toBe(score.score);
    for (const line of ['base', 'ecommerce', 'food', 'travel', 'mobility']) {
      expect([line, digits(await text(page, `[data-line=${line}]`))]).toEqual([line, score.breakdown[line]]);
      expect(score.breakdown[line]).toBeGreaterThan(0);
    }
    expect(tierOf(await text(page, '[data-field=tier]'))).toBe(tier.tier);
    expect(digits(await text(page, '[data-field=tier-score]'))).toBe(tier.score);
    expect(tierOf(await text(page, '#tier [data-field=next-tier]'))).toBe(tier.next.tier);
    expect(digits(await text(page, '#tier [data-field=points-needed]'))).toBe(tier.next.pointsNeeded);
    const floor = table.tiers.find((row: { tier: string }) => row.tier === tier.tier).threshold;
    const band = tier.next.threshold - floor;
    const progress = await page.$eval('#tier-progress', (el) => ({
      max: Number(el.getAttribute('max')),
      value: Number(el.getAttribute('value')),
    }));
    expect(progress).toEqual({ max: band, value: band - tier.next.pointsNeeded });

    // The member's eye shows the same, and the benefits the member holds.
    expect(tierOf(await text(page, '[data-field=eye-tier]'))).toBe(tier.tier);
    expect(digits(await text(page, '[data-field=eye-score]'))).toBe(tier.score);
    const held = new Set<string>(
      entitlements.entitlements
        .filter((g: { status: string }) => g.status === 'granted')
        .map((g: { name: string }) => g.name),
    );
    expect(held.size).toBeGreaterThan(0);
    const shown = await page.$$eval('.phone-benefits li', (items) => items.map((i) => i.textContent));
    expect(new Set(shown)).toEqual(held);

    // The breakdown chart (Chart.js) draws the same figures.
    const drawn = await page.evaluate(
      () =>
        (
          window as unknown as {
            Chart: { getChart(id: string): { data: { datasets: { data: number[] }[] } } };
          }
        ).Chart.getChart('breakdown-chart')?.data.datasets[0]?.data,
    );
    expect(drawn).toEqual(['base', 'ecommerce', 'food', 'travel', 'mobility'].map((l) => score.breakdown[l]));

    // Contributions, paged in place by htmx.
    const firstPage = await page.$$eval('[data-table=contributions] tbody tr', (rows) => rows.length);
    expect(firstPage).toBe(10);
    await page.click('#contributions .pager a');
    await page.waitForFunction(
      () => document.querySelector('#contributions .pager a')?.textContent === 'Newest',
    );
    const secondPage = await page.$$eval('[data-table=contributions] tbody tr', (rows) => rows.length);
    expect(firstPage + secondPage).toBe(19);
    expect(new URL(page.url()).search).toBe(`?id=${MEMBER}&asOf=`);

    // The tier timeline lists tier's decisions, newest first, each explained.
    const history = await client.read('tier', `/v1/members/${MEMBER}/tier/history?limit=20`);
    const timeline = await page.$$eval('[data-table=decisions] tbody tr', (trs) =>
      trs.map((tr) => tr.getAttribute('data-to')),
    );
    expect(timeline).toEqual(history.decisions.map((d: { to: string }) => d.to));
    const why = await text(page, '[data-table=decisions] tbody tr [data-field=explanation]');
    expect(why).toContain(`rules ${history.decisions[0].ruleVersion}`);
    expect(why).toContain(`threshold ${history.decisions[0].threshold}`);

    await expectAccessibleAndFitting(page, 1280);
    await page.goto(`${consoleUrl}/members?id=${MEMBER}`);
    await page.screenshot({ path: join(SCREENSHOTS, 'console-member.png'), fullPage: true });
    await page.setViewport({ width: 390, height: 844 });
    await expectAccessibleAndFitting(page, 390);
    await page.screenshot({ path: join(SCRATCH, 'console-member-390.png') });
    await page.browserContext().close();
  });

  it("when the member holds an 88VIP term and a merchant targets them, then the 88VIP panel lists the term's bundle and the offers panel the offers, as entitlement answers them", async () => {
    const hour = 3_600_000;
    const created = await fetch(`${stack.url('entitlement')}/v1/offers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEVELOPMENT_KEYS.merchant}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        title: 'Gold members: 12% off meals',
        percentOff: 12,
        audience: { tiers: ['GOLD'], categories: ['meal'] },
        validFrom: new Date(Date.now() - hour).toISOString(),
        validTo: new Date(Date.now() + 24 * hour).toISOString(),
        budget: 50,
      }),
    });
    expect(created.status).toBe(201);
    await client.checkout('entitlement', `/v1/members/${MEMBER}/vip88/activations`, {
      'idempotency-key': 'console-e2e-vip88',
    });
    const [vip, offers, entitlements] = await Promise.all([
      client.read('entitlement', `/v1/members/${MEMBER}/vip88`),
      client.read('entitlement', `/v1/members/${MEMBER}/offers`),
      client.read('entitlement', `/v1/members/${MEMBER}/entitlements?limit=200`),
    ]);
    expect(vip.bundle.length).toBeGreaterThan(0);
    expect(offers.offers.map((o: { title: string }) => o.title)).toContain('Gold members: 12% off meals');

    const page = await signedIn(DEVELOPMENT_KEYS.read);
    await page.goto(`${consoleUrl}/members?id=${MEMBER}`);
    const bundle = await page.$$eval('[data-list=vip88-bundle] li', (items) =>
      items.map((item) => item.getAttribute('data-benefit')),
    );
    expect(bundle).toEqual(vip.bundle.map((g: { benefitId: string }) => g.benefitId));
    const shown = await page.$$eval('[data-list=offers] li', (items) =>
      items.map((item) => [
        item.getAttribute('data-offer'),
        item.querySelector('[data-field=percent-off]')?.textContent ?? null,
      ]),
    );
    expect(shown).toEqual(
      offers.offers.map((o: { id: string; percentOff: number }) => [o.id, `${o.percentOff}% off`]),
    );
    const marked = await page.$$eval('[data-table=held] [data-field=vip88-bundle]', (pills) => pills.length);
    expect(marked).toBe(
      entitlements.entitlements.filter(
        (g: { status: string; vip88ActivationId: string | null }) =>
          g.status === 'granted' && g.vip88ActivationId !== null,
      ).length,
    );
    await page.browserContext().close();
  });

  it('when the programme view opens, then its distribution chart and table equal /v1/tiers/distribution and the event flow counts what was posted', async () => {
    const page = await signedIn(DEVELOPMENT_KEYS.admin);
    await page.goto(`${consoleUrl}/programme`);
    const distribution = await client.read('tier', '/v1/tiers/distribution');
    const rows = await page.$$eval('[data-table=distribution] tbody tr', (trs) =>
      trs.map((tr) => ({
        tier: tr.getAttribute('data-tier'),
        members: Number(tr.querySelector('[data-field=members]')?.textContent?.replace(/[^0-9]/g, '')),
      })),
    );
    expect(rows).toEqual(distribution.tiers);
    expect(digits(await text(page, '[data-field=members-total]'))).toBe(distribution.total);
    const drawn = await page.evaluate(
      () =>
        (
          window as unknown as {
            Chart: { getChart(id: string): { data: { datasets: { data: number[] }[] } } };
          }
        ).Chart.getChart('distribution-chart')?.data.datasets[0]?.data,
    );
    expect(drawn).toEqual(distribution.tiers.map((row: { members: number }) => row.members));

    // The flow, from the services' /metrics: every posted event accepted and folded once.
    const flow = async () =>
      page.$$eval('[data-table=pipeline] tbody tr', (trs) =>
        Object.fromEntries(
          trs.map((tr) => [tr.querySelector('th')?.textContent, tr.querySelectorAll('td')[1]?.textContent]),
        ),
      );
    await waitFor(
      async () => {
        await page.reload();
        const figures = await flow();
        return (
          digits(figures['Events accepted by ingest'] ?? '') === posted &&
          digits(figures['Events folded by scoring'] ?? '') === posted
        );
      },
      { timeoutMs: 20_000, description: 'the event flow to count every posted event' },
    );
    expect(await text(page, '#health .card-subtitle')).toBe('7 of 7 ready');

    await expectAccessibleAndFitting(page, 1280);
    await page.screenshot({ path: join(SCREENSHOTS, 'console-programme.png'), fullPage: true });
    await page.setViewport({ width: 390, height: 844 });
    await expectAccessibleAndFitting(page, 390);
    await page.screenshot({ path: join(SCRATCH, 'console-programme-390.png'), fullPage: true });
    await page.browserContext().close();
  });

  /** The newest evaluations scoring and tier ran (admin API), to show nothing more ran. */
  async function evaluationsRun() {
    const headers = { authorization: `Bearer ${DEVELOPMENT_KEYS.admin}` };
    const [scoring, tier] = await Promise.all(
      ['scoring', 'tier'].map(async (service) => {
        const response = await fetch(`${stack.url(service)}/v1/admin/evaluations`, { headers });
        return ((await response.json()) as { evaluations: unknown[] }).evaluations;
      }),
    );
    return { scoring, tier };
  }

  /** POSTs from inside the page, as a script on it could: the session cookie goes along. */
  async function postFromPage(page: Page, path: string, withToken: boolean) {
    const headers = JSON.parse((await page.$eval('body', (b) => b.getAttribute('hx-headers'))) ?? '{}');
    return page.evaluate(
      async (target, token) => {
        const response = await fetch(target, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            ...(token ? { 'x-csrf-token': token } : {}),
          },
          body: 'asOf=',
        });
        return { status: response.status, text: await response.text() };
      },
      path,
      withToken ? (headers['x-csrf-token'] as string) : '',
    );
  }

  it('when a read-only operator opens the programme, then there is no evaluation to start, and a forged POST with the session token is refused (403)', async () => {
    const page = await signedIn(DEVELOPMENT_KEYS.read);
    await page.goto(`${consoleUrl}/programme`);
    expect(await page.$('[data-action=run-evaluation]')).toBeNull();
    expect(await text(page, '#admin-jobs [data-state=admin-only]')).toContain('needs the admin key');
    const before = await evaluationsRun();
    const forged = await postFromPage(page, '/jobs/evaluation', true);
    expect(forged.status).toBe(403);
    expect(forged.text).toContain('admin jobs need the admin key');
    expect(await evaluationsRun()).toEqual(before);
    await page.browserContext().close();
  });

  it('when an admin posts without the CSRF token, then it is refused (403); with the button, then the evaluation runs on scoring and tier', async () => {
    const page = await signedIn(DEVELOPMENT_KEYS.admin);
    await page.goto(`${consoleUrl}/programme`);
    const before = await evaluationsRun();
    const forged = await postFromPage(page, '/jobs/evaluation', false);
    expect(forged.status).toBe(403);
    expect(forged.text).toContain('CSRF token is missing or wrong');
    expect(await evaluationsRun()).toEqual(before);

    await page.click('[data-action=run-evaluation]');
    await page.waitForSelector('#job-result [data-state=done]', { timeout: 30_000 });
    expect(await text(page, '#job-result')).toContain('Evaluation done');
    // Still on the programme page: htmx put the outcome in place.
    expect(new URL(page.url()).pathname).toBe('/programme');
    await page.browserContext().close();
  });

  /** A rule file that lowers the member's next tier to their score: they (and any like them) move up. */
  async function ruleFile(): Promise<string> {
    const tier = await client.read('tier', `/v1/members/${MEMBER}/tier`);
    const path = join(SCRATCH, 'console-e2e-candidate.json');
    writeFileSync(path, JSON.stringify({ tiers: { thresholds: { [tier.next.tier]: tier.score } } }));
    return path;
  }

  it("when an admin starts a backtest from an uploaded rule file, then it completes on the page and the rendered distributions and moves are the API's", async () => {
    const page = await signedIn(DEVELOPMENT_KEYS.admin);
    await page.goto(`${consoleUrl}/backtests`);
    await page.focus('#backtest-name');
    await page.keyboard.type('Next tier at the member score');
    const upload = await page.$('#backtest-rule-file');
    await (upload as unknown as { uploadFile(path: string): Promise<void> }).uploadFile(await ruleFile());
    await Promise.all([page.waitForNavigation(), page.click('[data-action=start-backtest]')]);
    const id = new URL(page.url()).pathname.split('/').at(-1) as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    // htmx polls the progress until the backtest is done.
    await page.waitForSelector('#backtest-live[data-status=completed]', { timeout: 90_000 });

    const response = await fetch(`${stack.url('scoring')}/v1/admin/backtests/${id}`, {
      headers: { authorization: `Bearer ${DEVELOPMENT_KEYS.admin}` },
    });
    const api = await response.json();
    expect(api.status).toBe('completed');
    expect(api.moves.up).toBeGreaterThan(0);
    const moves = await page.$$eval('[data-table=moves] tbody tr', (trs) =>
      Object.fromEntries(
        trs.map((tr) => [
          tr.getAttribute('data-pair'),
          Number(tr.querySelector('[data-field=count]')?.textContent?.replace(/[^0-9]/g, '')),
        ]),
      ),
    );
    expect(moves).toEqual(api.moves.byPair);
    expect(digits(await text(page, '[data-field=moves-up]'))).toBe(api.moves.up);
    expect(digits(await text(page, '[data-field=moves-down]'))).toBe(api.moves.down);
    const distribution = await page.$$eval('[data-table=backtest-distribution] tbody tr', (trs) =>
      trs.map((tr) => [
        tr.getAttribute('data-tier'),
        Number(tr.querySelector('[data-field=before]')?.textContent?.replace(/[^0-9]/g, '')),
        Number(tr.querySelector('[data-field=after]')?.textContent?.replace(/[^0-9]/g, '')),
      ]),
    );
    expect(distribution).toEqual(
      Object.keys(api.baseline.tiers).map((tier) => [
        tier,
        api.baseline.tiers[tier],
        api.candidate.tiers[tier],
      ]),
    );
    const drawn = await page.evaluate(() =>
      (
        window as unknown as {
          Chart: { getChart(id: string): { data: { datasets: { data: number[] }[] } } };
        }
      ).Chart.getChart('backtest-chart')?.data.datasets.map((d) => d.data),
    );
    expect(drawn).toEqual([Object.values(api.baseline.tiers), Object.values(api.candidate.tiers)]);
    expect(await page.$('[data-action=adopt]')).not.toBeNull();

    await expectAccessibleAndFitting(page, 1280);
    await page.screenshot({ path: join(SCREENSHOTS, 'console-backtest.png'), fullPage: true });
    await page.setViewport({ width: 390, height: 844 });
    await expectAccessibleAndFitting(page, 390);
    await page.screenshot({ path: join(SCRATCH, 'console-backtest-390.png'), fullPage: true });
    await page.browserContext().close();
  });

  it('when a read-only operator opens backtests, then there is no form to start one, and a forged upload with the session token is refused (403)', async () => {
    const page = await signedIn(DEVELOPMENT_KEYS.read);
    await page.goto(`${consoleUrl}/backtests`);
    expect(await page.$('[data-action=start-backtest]')).toBeNull();
    expect(await text(page, '[data-state=admin-only]')).toContain('need the admin key');
    const headers = { authorization: `Bearer ${DEVELOPMENT_KEYS.admin}` };
    const count = async () =>
      (
        (await (await fetch(`${stack.url('scoring')}/v1/admin/backtests`, { headers })).json()) as {
          backtests: unknown[];
        }
      ).backtests.length;
    const before = await count();
    const token = JSON.parse((await page.$eval('body', (b) => b.getAttribute('hx-headers'))) ?? '{}')[
      'x-csrf-token'
    ] as string;
    const forged = await page.evaluate(async (csrf) => {
      const form = new FormData();
      form.set('_csrf', csrf);
      form.set('name', 'forged');
      form.set('ruleFile', new Blob(['{}'], { type: 'application/json' }), 'forged.json');
      const response = await fetch('/backtests', { method: 'POST', body: form });
      return response.status;
    }, token);
    expect(forged).toBe(403);
    expect(await count()).toBe(before);
    await page.browserContext().close();
  });

  it('when an operator uses the keyboard, then the skip link comes first and leads to the content', async () => {
    const page = await signedIn(DEVELOPMENT_KEYS.read);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('member-id');
    await page.browserContext().close();
  });
});
