/**
 * The console over HTTP, against stand-ins of the services that answer what the real ones answer
 * today: sign-in and sessions, CSRF, roles, the panels of upcoming endpoints, and a service that is
 * down. The same pages against the real services, in a browser: tests/e2e/console.test.ts.
 */
import { ConsoleSession, freePort } from '@taobi/tests';
import type { ConsoleService } from '../src/app';
import { todaysApis } from './fixtures';
import { ADMIN_KEY, type Call, CONSOLE_READ_KEY, READ_KEY, startConsole, startFakeServices } from './harness';

describe('the console against the services as they are today', () => {
  let services: Awaited<ReturnType<typeof startFakeServices>>;
  let consoleService: ConsoleService;
  let url: string;

  beforeAll(async () => {
    services = await startFakeServices(todaysApis);
    ({ service: consoleService, url } = await startConsole(services.url));
  });

  afterAll(async () => {
    await consoleService?.app.close();
    await consoleService?.stop();
    await services?.close();
  });

  const jobCalls = () => services.calls.filter((c: Call) => c.method === 'POST');

  describe('signing in', () => {
    it('when nobody is signed in, then every page sends the browser to the sign-in form, which asks for the key in a POST form with a CSRF token', async () => {
      const anonymous = new ConsoleSession(url);
      const members = await anonymous.get('/members?id=m-10001');
      expect(members.status).toBe(303);
      expect(members.location).toBe('/sign-in?next=%2Fmembers%3Fid%3Dm-10001');
      expect((await anonymous.get('/programme')).status).toBe(303);

      const form = await anonymous.get('/sign-in');
      expect(form.status).toBe(200);
      expect(form.text).toMatch(/<form method="post" action="\/sign-in"/);
      expect(form.text).toMatch(
        /<label for="key">Access key<\/label>\s*<input id="key" name="key" type="password"/,
      );
      expect(anonymous.csrfToken).not.toBe('');
    });

    it('when the session cookie is set, then it is HttpOnly and SameSite=Strict and holds no key', async () => {
      const session = new ConsoleSession(url);
      await session.get('/sign-in');
      const answer = await session.post('/sign-in', { key: ADMIN_KEY });
      expect(answer.status).toBe(303);
      expect(answer.location).toBe('/members');
      const cookie = answer.setCookie.find((line) => line.startsWith('taobi_console='));
      expect(cookie).toMatch(/; HttpOnly/i);
      expect(cookie).toMatch(/; SameSite=Strict/i);
      expect(cookie).not.toContain(ADMIN_KEY);
      const page = await session.get('/programme');
      expect(page.status).toBe(200);
      expect(page.text).not.toContain(ADMIN_KEY);
    });

    it('when signing in, then the session id changes (no fixation) and signing out ends the session', async () => {
      const session = new ConsoleSession(url);
      const before = (await session.get('/sign-in')).setCookie.join();
      const after = (await session.post('/sign-in', { key: READ_KEY })).setCookie.join();
      const id = (line: string) => /taobi_console=([^;.]+)/.exec(line)?.[1];
      expect(id(before)).toBeDefined();
      expect(id(after)).toBeDefined();
      expect(id(after)).not.toBe(id(before));

      expect((await session.get('/members')).status).toBe(200);
      expect((await session.post('/sign-out', {})).status).toBe(303);
      expect((await session.get('/members')).status).toBe(303);
    });

    it('when the key is no read or admin key, then the form says so (401) and nobody is signed in', async () => {
      const session = new ConsoleSession(url);
      await session.get('/sign-in');
      const refused = await session.post('/sign-in', { key: CONSOLE_READ_KEY });
      expect(refused.status).toBe(401);
      expect(refused.text).toContain('This key is not a Taobi read or admin key.');
      expect((await session.get('/members')).status).toBe(303);
    });

    it('when the sign-in form comes without its CSRF token, then it is refused (403)', async () => {
      const session = new ConsoleSession(url);
      await session.get('/sign-in');
      const forged = await session.post('/sign-in', { key: ADMIN_KEY }, { csrf: false });
      expect(forged.status).toBe(403);
      expect(forged.text).toContain('CSRF token is missing or wrong');
      expect((await session.get('/members')).status).toBe(303);
    });

    it('when the form names somewhere else to go next, then only a path of the console is followed', async () => {
      const session = new ConsoleSession(url);
      await session.get('/sign-in');
      const away = await session.post('/sign-in', { key: READ_KEY, next: '//evil.example/x' });
      expect(away.location).toBe('/members');
      const back = new ConsoleSession(url);
      await back.get('/sign-in');
      expect((await back.post('/sign-in', { key: READ_KEY, next: '/programme' })).location).toBe(
        '/programme',
      );
    });
  });

  describe('admin jobs', () => {
    it('when a read-only operator opens the programme, then there is no job to run, and a forged POST with a valid token is refused (403) without calling any service', async () => {
      const reader = await ConsoleSession.signIn(url, READ_KEY);
      const page = await reader.get('/programme');
      expect(page.status).toBe(200);
      expect(page.text).not.toContain('data-action="run-evaluation"');
      expect(page.text).toContain('needs the admin key');
      const posted = jobCalls().length;

      const forged = await reader.post('/jobs/evaluation', { asOf: '' });
      expect(forged.status).toBe(403);
      expect(forged.text).toContain('admin jobs need the admin key');
      expect((await reader.post('/jobs/periodic-grants', { period: '' })).status).toBe(403);
      expect(jobCalls()).toHaveLength(posted);
    });

    it('when an admin posts a job without the CSRF token, then it is refused (403) and no service is called', async () => {
      const admin = await ConsoleSession.signIn(url, ADMIN_KEY);
      await admin.get('/programme');
      const posted = jobCalls().length;
      const forged = await admin.post('/jobs/evaluation', { asOf: '' }, { csrf: false });
      expect(forged.status).toBe(403);
      const wrong = await admin.post(
        '/jobs/evaluation',
        {},
        { csrf: false, headers: { 'x-csrf-token': 'nope' } },
      );
      expect(wrong.status).toBe(403);
      expect(jobCalls()).toHaveLength(posted);
    });

    it("when an admin runs the evaluation, then scoring's and tier's run in that order with the operator's admin key and the outcome is shown", async () => {
      const admin = await ConsoleSession.signIn(url, ADMIN_KEY);
      const page = await admin.get('/programme');
      expect(page.text).toContain('data-action="run-evaluation"');
      const posted = jobCalls().length;
      const done = await admin.post(
        '/jobs/evaluation',
        { asOf: '2026-12-08T00:00' },
        { headers: { 'hx-request': 'true' } },
      );
      expect(done.status).toBe(200);
      expect(done.text).toContain('Evaluation done');
      const calls = jobCalls().slice(posted);
      expect(calls.map((c) => `${c.service} ${c.path}`)).toEqual([
        'scoring /v1/admin/evaluations',
        'tier /v1/admin/evaluations',
      ]);
      expect(calls.every((c) => c.authorization === `Bearer ${ADMIN_KEY}`)).toBe(true);
      // The datetime-local field is Shanghai wall-clock time.
      expect(calls[0]?.body).toEqual({ asOf: '2026-12-07T16:00:00.000Z' });
    });

    it("when tier refuses the evaluation after scoring ran it, then the console passes tier's refusal on (409) and says what did run", async () => {
      const admin = await ConsoleSession.signIn(url, ADMIN_KEY);
      await admin.get('/programme');
      const refused = await admin.post(
        '/jobs/evaluation',
        { asOf: '2025-06-01T00:00' },
        { headers: { 'hx-request': 'true' } },
      );
      expect(refused.status).toBe(409);
      expect(refused.text).toContain('Evaluation done on scoring only');
      expect(refused.text).toContain('Scoring: evaluation of');
      expect(refused.text).toContain('an evaluation as of a later instant already started');
    });

    it('when a job field is malformed, then the answer names it (400) and no service is called', async () => {
      const admin = await ConsoleSession.signIn(url, ADMIN_KEY);
      await admin.get('/programme');
      const posted = jobCalls().length;
      const bad = await admin.post('/jobs/evaluation', { asOf: 'yesterday' });
      expect(bad.status).toBe(400);
      expect(bad.text).toContain('asOf: must be a date and time');
      const badPeriod = await admin.post('/jobs/periodic-grants', { period: '2026-13-01' });
      expect(badPeriod.status).toBe(400);
      expect(badPeriod.text).toContain('period: must be a day (2026-12-07), an ISO week');
      expect(jobCalls()).toHaveLength(posted);
    });

    it('when an admin issues the periodic grants, then entitlement runs them and each period is reported', async () => {
      const admin = await ConsoleSession.signIn(url, ADMIN_KEY);
      await admin.get('/programme');
      const done = await admin.post('/jobs/periodic-grants', { period: '2026-W49' });
      expect(done.status).toBe(200);
      expect(done.text).toContain('2026-W49: 4 granted to 9 members scanned');
      expect(services.calls.at(-1)).toMatchObject({
        service: 'entitlement',
        path: '/v1/admin/periodic-grants',
        body: { period: '2026-W49' },
      });
    });

    it("when an admin issues a day's grants (the daily cadence), then entitlement is asked for that day", async () => {
      const admin = await ConsoleSession.signIn(url, ADMIN_KEY);
      await admin.get('/programme');
      const done = await admin.post('/jobs/periodic-grants', { period: '2026-11-23' });
      expect(done.status).toBe(200);
      expect(services.calls.at(-1)).toMatchObject({
        service: 'entitlement',
        path: '/v1/admin/periodic-grants',
        body: { period: '2026-11-23' },
      });
    });
  });

  describe('pages', () => {
    it("when a member is looked up, then every panel shows the services' answers, read with the console's own read key", async () => {
      const reader = await ConsoleSession.signIn(url, READ_KEY);
      const before = services.calls.length;
      const page = await reader.get('/members?id=m-10001');
      expect(page.status).toBe(200);
      expect(page.text).toContain('<span class="figure-value" data-field="score">914</span>');
      expect(page.text).toMatch(/data-field="tier">Gold</);
      expect(page.text).toContain('<progress id="tier-progress" class="progress" max="300" value="214"');
      expect(page.text).toContain(
        '<span data-field="points-needed">86</span> points to <span data-field="next-tier">Platinum</span>',
      );
      expect(page.text).toContain('Priority customer service');
      expect(page.text).toMatch(/data-table="revoked"[\s\S]*Ele.me free delivery/);
      expect(page.text).toContain('<span class="figure-value" data-field="vip88-price">888.00 CNY</span>');
      expect(page.text).toContain('Older contributions');
      const reads = services.calls.slice(before);
      expect(reads.length).toBeGreaterThan(5);
      expect(reads.every((c) => c.authorization === `Bearer ${CONSOLE_READ_KEY}`)).toBe(true);
    });

    it("when the member holds an 88VIP term, then the 88VIP panel lists the term's bundle, the benefits mark its grants, and each offer shows its discount and audience", async () => {
      const reader = await ConsoleSession.signIn(url, READ_KEY);
      const page = await reader.get('/members?id=m-10001');
      expect(page.status).toBe(200);
      const vip88 = /<section[^>]*id="vip88"[\s\S]*?<\/section>/.exec(page.text)?.[0] ?? '';
      expect(vip88).toContain('<strong>Active</strong> since 30 Nov 2026, until 30 Nov 2027');
      const bundle = [...vip88.matchAll(/<li data-benefit="([^"]+)">([^<]+)/g)].map((m) => [
        m[1],
        m[2]?.trim(),
      ]);
      expect(bundle).toEqual([
        ['freshippo-membership', 'Freshippo X membership (88VIP)'],
        ['vip88-monthly-coupon-pack', '88VIP monthly Tmall coupon'],
      ]);
      const held = /data-table="held"[\s\S]*?<\/table>/.exec(page.text)?.[0] ?? '';
      expect(held).toMatch(
        /Freshippo X membership \(88VIP\) <span class="pill" style="--tone: var\(--info\); --tone-bg: var\(--info-bg\)" data-field="vip88-bundle">88VIP<\/span>/,
      );
      expect(held).not.toMatch(/Priority customer service <span class="pill"[^>]*data-field="vip88-bundle"/);

      const offers = /<section[^>]*id="offers"[\s\S]*?<\/section>/.exec(page.text)?.[0] ?? '';
      expect(offers).toContain('What Gold with 88VIP qualifies for now');
      expect(offers).toContain('<strong>Gold and Platinum 88VIP: 15% off meals</strong>');
      expect(offers).toContain(
        '<span class="pill" style="--tone: var(--ok); --tone-bg: var(--ok-bg)" data-field="percent-off">15% off</span>',
      );
      expect(offers).toContain(
        'Merchant dev-merchant · for Gold, Platinum · 88VIP members · on meal · 63 left · until 7 Dec 2026',
      );
    });

    it("when the decisions and forecast endpoints answer 404, then their panels say they are not available on this stack yet and show what today's tier API knows", async () => {
      const reader = await ConsoleSession.signIn(url, READ_KEY);
      const page = await reader.get('/members?id=m-10001');
      expect(page.text).toContain('Tier decisions with their explanations: not available on this stack yet.');
      expect(page.text).toContain(
        'The forecast over the next three evaluations: not available on this stack yet.',
      );
      expect(page.text).toMatch(/current tier, from the tier API/);
      expect(page.text).toContain('keeps Gold (forecast score 914)');
    });

    it('when backtests and the lag and outbox metrics do not exist yet, then the programme view says so and shows the rest', async () => {
      const admin = await ConsoleSession.signIn(url, ADMIN_KEY);
      const page = await admin.get('/programme');
      expect(page.status).toBe(200);
      expect(page.text).toContain('Backtests: not available on this stack yet.');
      expect(page.text).toContain('Consumer lag: not available on this stack yet.');
      expect(page.text).toContain('Outbox age: not available on this stack yet.');
      expect(page.text).toMatch(/data-tier="BRONZE"[\s\S]*?data-field="members">5</);
      expect(page.text).toContain('7 of 7 ready');
    });

    it('when the member id is malformed, then the search form names the field (400) and no service is asked', async () => {
      const reader = await ConsoleSession.signIn(url, READ_KEY);
      const before = services.calls.length;
      const page = await reader.get('/members?id=not%20an%20id!');
      expect(page.status).toBe(400);
      expect(page.text).toContain('Member id: must be 1 to 64 characters');
      expect(services.calls.length).toBe(before);
    });

    it('when the next page of contributions is asked by htmx, then only the panel comes back, with the cursor passed on', async () => {
      const reader = await ConsoleSession.signIn(url, READ_KEY);
      const fragment = await reader.get('/members/contributions?id=m-10001&cursor=abc', {
        'hx-request': 'true',
      });
      expect(fragment.status).toBe(200);
      expect(fragment.text.startsWith('<section class="card card-wide" id="contributions"')).toBe(true);
      expect(services.calls.at(-1)?.path).toBe('/v1/members/m-10001/score/history?limit=10&cursor=abc');
    });
  });

  it('when a service is down, then its panels say it is not reachable and the rest of the page is shown', async () => {
    const closed = await freePort();
    const partial = await startConsole(services.url, { TAOBI_ENTITLEMENT_URL: `http://127.0.0.1:${closed}` });
    try {
      const reader = await ConsoleSession.signIn(partial.url, READ_KEY);
      const page = await reader.get('/members?id=m-10001');
      expect(page.status).toBe(200);
      expect(page.text).toContain('data-field="score">914<');
      expect(page.text).toMatch(/Benefits: entitlement is not reachable/);
      expect(page.text).toMatch(/88VIP: entitlement is not reachable/);
    } finally {
      await partial.service.app.close();
      await partial.service.stop();
    }
  });
});
