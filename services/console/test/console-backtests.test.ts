/**
 * Backtests in the console over HTTP, against stand-ins answering as scoring's
 * `/v1/admin/backtests` and `/v1/admin/rule-sets` do: starting one from an uploaded rule file
 * (admin key only, CSRF-checked), the comparison while it runs and once done, and adopting it.
 * The same in a browser against the real services: tests/e2e/console.test.ts.
 */
import { ConsoleSession } from '@taobi/tests';
import type { FastifyInstance } from 'fastify';
import type { UpstreamService } from '../src/config';
import { todaysApis } from './fixtures';
import { ADMIN_KEY, type Call, consoleAgainst, READ_KEY } from './harness';

const ID = '4b1e0c9a-6f1d-4c55-9a57-0d2a3f1e8b21';
const TIERS = { BRONZE: 4, SILVER: 3, GOLD: 1, PLATINUM: 1, DIAMOND: 0, BLACK_DIAMOND: 0 };
const side = (ruleVersion: string, tiers: Record<string, number>, vip88Eligible: number) => ({
  ruleVersion,
  catalogueVersion: '2026.2',
  evaluationAt: '2026-11-07T16:00:00.000Z',
  tiers,
  vip88Eligible,
  benefits: {},
});
const CANDIDATE = { version: '2026.1-what-if', tiers: { thresholds: { PLATINUM: 700 } } };
let status: 'running' | 'completed' = 'running';

function backtestApis(app: FastifyInstance, at: (service: UpstreamService) => string): void {
  todaysApis(app, at);
  const scoring = at('scoring');
  app.post(`${scoring}/v1/admin/backtests`, async (request, reply) => {
    const body = request.body as { ruleSet: { tiers?: { thresholds?: Record<string, number> } } };
    if ((body.ruleSet.tiers?.thresholds?.GOLD ?? 0) < 0) {
      return reply.status(400).send({
        error: {
          code: 'VALIDATION_FAILED',
          message: 'request validation failed',
          fields: [
            { field: 'ruleSet.tiers.thresholds.GOLD', message: 'Too small: expected number to be >=0' },
          ],
        },
      });
    }
    return reply.status(202).send({ id: ID, status: 'running' });
  });
  const summary = () => ({
    id: ID,
    name: 'Platinum at 700',
    status,
    progress: status === 'running' ? { done: 4, total: 9 } : { done: 9, total: 9 },
    asOf: '2026-11-30T05:00:00.000Z',
    createdAt: '2026-11-30T05:00:01.000Z',
    completedAt: status === 'completed' ? '2026-11-30T05:00:09.000Z' : null,
  });
  app.get(`${scoring}/v1/admin/backtests`, async () => ({ backtests: [summary()] }));
  app.get(`${scoring}/v1/admin/backtests/:id`, async (request, reply) => {
    if ((request.params as { id: string }).id !== ID) {
      return reply.status(404).send({ error: { code: 'NOT_FOUND', message: 'no backtest' } });
    }
    return {
      ...summary(),
      baseline: side('2026.1', TIERS, 1),
      candidate: side('2026.1-what-if', { ...TIERS, GOLD: 0, PLATINUM: 2 }, 2),
      moves: { up: 1, down: 0, byPair: { 'GOLD->PLATINUM': 1 } },
      liability: {
        'tmall-coupon': { before: 4000, after: 6000, unitCost: 2000, unit: 'fen' },
        'priority-service': { before: 2, after: 3, unit: 'grants' },
      },
      samples: [
        {
          memberId: 'm-40001',
          before: { score: 760, tier: 'GOLD' },
          after: { score: 760, tier: 'PLATINUM' },
        },
      ],
      candidateRuleSet: CANDIDATE,
    };
  });
  app.post(`${scoring}/v1/admin/rule-sets`, async (_request, reply) =>
    reply.status(201).send({ version: '2027.1', effectiveFrom: '2027-01-07T16:00:00.000Z' }),
  );
}

describe('backtests in the console', () => {
  const stack = consoleAgainst(backtestApis);

  const posts = (path: string) => stack.calls.filter((c: Call) => c.method === 'POST' && c.path === path);
  const file = (content: string) => ({ ruleFile: { name: 'candidate.json', content } });

  it('when an admin uploads a rule file, then scoring gets it as the ruleSet with the admin key, and the browser goes to the backtest', async () => {
    const admin = await ConsoleSession.signIn(stack.url, ADMIN_KEY);
    const form = await admin.get('/backtests');
    expect(form.text).toContain('enctype="multipart/form-data"');
    const answer = await admin.postMultipart(
      '/backtests',
      { name: 'Platinum at 700', asOf: '2026-11-30T13:00' },
      file(JSON.stringify(CANDIDATE)),
    );
    expect(answer.status).toBe(303);
    expect(answer.location).toBe(`/backtests/${ID}`);
    const sent = posts('/v1/admin/backtests').at(-1);
    expect(sent?.authorization).toBe(`Bearer ${ADMIN_KEY}`);
    expect(sent?.body).toEqual({
      name: 'Platinum at 700',
      ruleSet: CANDIDATE,
      asOf: '2026-11-30T05:00:00.000Z',
    });
  });

  it('when the file is not JSON, or scoring refuses a field, then the form comes back (400) naming it and nothing more is started', async () => {
    const admin = await ConsoleSession.signIn(stack.url, ADMIN_KEY);
    await admin.get('/backtests');
    const before = posts('/v1/admin/backtests').length;
    const notJson = await admin.postMultipart('/backtests', { name: 'x' }, file('{"tiers":'));
    expect(notJson.status).toBe(400);
    expect(notJson.text).toMatch(/data-field-error="ruleFile">ruleFile: is not JSON/);
    const list = await admin.postMultipart('/backtests', { name: 'x' }, file('[1,2]'));
    expect(list.status).toBe(400);
    expect(list.text).toContain('ruleFile: must hold a JSON object');
    expect(posts('/v1/admin/backtests')).toHaveLength(before);

    const refused = await admin.postMultipart(
      '/backtests',
      { name: 'Negative Gold' },
      file(JSON.stringify({ tiers: { thresholds: { GOLD: -1 } } })),
    );
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('ruleSet.tiers.thresholds.GOLD: Too small');
    expect(refused.text).toContain('value="Negative Gold"');
  });

  it('when a read-only operator opens backtests, then there is no form, and a POST with the session token is refused (403) without reaching scoring', async () => {
    const reader = await ConsoleSession.signIn(stack.url, READ_KEY);
    const page = await reader.get('/backtests');
    expect(page.status).toBe(200);
    expect(page.text).toContain('data-state="admin-only"');
    expect(page.text).not.toContain('data-action="start-backtest"');
    const before = stack.calls.length;
    const forged = await reader.postMultipart('/backtests', { name: 'x' }, file('{}'));
    expect(forged.status).toBe(403);
    expect((await reader.get(`/backtests/${ID}`)).status).toBe(403);
    const adopt = await reader.post(`/backtests/${ID}/adopt`, {
      version: 'v',
      effectiveFrom: '2027-01-01T00:00',
    });
    expect(adopt.status).toBe(403);
    expect(
      stack.calls.slice(before).filter((c) => c.path.includes('backtests') || c.path.includes('rule-sets')),
    ).toEqual([]);
  });

  it('when an admin posts the upload without the CSRF token, then it is refused (403)', async () => {
    const admin = await ConsoleSession.signIn(stack.url, ADMIN_KEY);
    await admin.get('/backtests');
    const before = posts('/v1/admin/backtests').length;
    const forged = await admin.postMultipart('/backtests', { name: 'x' }, file('{}'), { csrf: false });
    expect(forged.status).toBe(403);
    expect(posts('/v1/admin/backtests')).toHaveLength(before);
  });

  it('when the backtest runs, then its page polls its progress; once completed, it stops polling and shows the before/after distribution, moves, liability and the adopt form', async () => {
    const admin = await ConsoleSession.signIn(stack.url, ADMIN_KEY);
    status = 'running';
    const running = await admin.get(`/backtests/${ID}`);
    expect(running.status).toBe(200);
    expect(running.text).toContain(`hx-get="/backtests/${ID}/live" hx-trigger="every 2s"`);
    expect(running.text).toMatch(/<progress id="backtest-progress" class="progress" max="9" value="4">/);
    expect(running.text).not.toContain('data-action="adopt"');

    status = 'completed';
    const live = await admin.get(`/backtests/${ID}/live`, { 'hx-request': 'true' });
    expect(live.text.startsWith('<div id="backtest-live"')).toBe(true);
    expect(live.text).not.toContain('hx-trigger');
    // The adopt form comes with the fragment that says it completed: no reload needed.
    expect(live.text).toContain('data-action="adopt"');
    const done = await admin.get(`/backtests/${ID}`);
    expect(done.text).toMatch(/<tr data-tier="GOLD">.*data-field="before">1<.*data-field="after">0</);
    expect(done.text).toMatch(/<tr data-pair="GOLD-&gt;PLATINUM">.*data-field="count">1</);
    expect(done.text).toContain('data-field="moves-up">1<');
    expect(done.text).toContain('data-field="liability-after">60.00 CNY<');
    expect(done.text).toContain('3 grants');
    expect(done.text).toContain('id="backtest-chart"');
    expect(done.text).toContain('value="2026.1-next"');
    expect(done.text).toContain('data-action="adopt"');
  });

  it('when an admin adopts a completed backtest, then scoring gets its candidate rules under the new version with the backtest id', async () => {
    status = 'completed';
    const admin = await ConsoleSession.signIn(stack.url, ADMIN_KEY);
    await admin.get(`/backtests/${ID}`);
    const answer = await admin.post(`/backtests/${ID}/adopt`, {
      version: '2027.1',
      effectiveFrom: '2027-01-01T00:00',
    });
    expect(answer.status).toBe(201);
    expect(answer.text).toContain('Rules 2027.1 take effect');
    expect(posts('/v1/admin/rule-sets').at(-1)?.body).toEqual({
      ruleSet: { ...CANDIDATE, version: '2027.1' },
      effectiveFrom: '2026-12-31T16:00:00.000Z',
      backtestId: ID,
    });
  });

  it('when the backtest id is not one, then 400; when scoring has no such backtest, then 404', async () => {
    const admin = await ConsoleSession.signIn(stack.url, ADMIN_KEY);
    expect((await admin.get('/backtests/not-a-uuid')).status).toBe(400);
    expect((await admin.get('/backtests/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });
});
