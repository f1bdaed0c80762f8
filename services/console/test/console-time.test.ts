/**
 * The console's member view once tier answers issue "Time"'s endpoints: the timeline lists the
 * decisions with their explanation (the months an evaluation expired included) and the forecast
 * names the first evaluation that would move the member down. Stand-ins answer as tier does.
 */
import { ConsoleSession } from '@taobi/tests';
import type { FastifyInstance } from 'fastify';
import type { UpstreamService } from '../src/config';
import { todaysApis } from './fixtures';
import { consoleAgainst, READ_KEY } from './harness';

const MAR_8 = '2027-03-07T16:00:00.000Z';

function timeApis(app: FastifyInstance, at: (service: UpstreamService) => string): void {
  todaysApis(app, at);
  app.get(`${at('tier')}/v1/members/:id/tier/history`, async () => ({
    memberId: 'm-10001',
    decisions: [
      {
        at: MAR_8,
        from: 'GOLD',
        to: 'SILVER',
        direction: 'down',
        reason: 'monthly-evaluation',
        score: 603,
        scoreVersion: 3,
        threshold: 700,
        ruleVersion: '2026.1',
        evaluationAsOf: MAR_8,
        windowFrom: '2026-04',
        windowTo: '2027-03',
        expiredMonths: [{ month: '2026-03', points: 101 }],
        eventId: `tier:m-10001:evaluation:${MAR_8}`,
        decidedAt: MAR_8,
        revision: 4,
      },
    ],
    nextCursor: 'WzRd',
  }));
  app.get(`${at('tier')}/v1/members/:id/forecast`, async () => ({
    memberId: 'm-10001',
    tier: 'GOLD',
    score: 704,
    evaluations: [
      {
        at: '2027-02-07T16:00:00.000Z',
        expiringPoints: 0,
        projectedScore: 704,
        projectedTier: 'GOLD',
        pointsToKeep: 0,
        willDrop: false,
      },
      {
        at: MAR_8,
        expiringPoints: 101,
        projectedScore: 603,
        projectedTier: 'SILVER',
        pointsToKeep: 97,
        willDrop: true,
      },
      {
        at: '2027-04-07T16:00:00.000Z',
        expiringPoints: 303,
        projectedScore: 300,
        projectedTier: 'BRONZE',
        pointsToKeep: 400,
        willDrop: true,
      },
    ],
    willDrop: true,
    dropTo: 'SILVER',
    dropAt: MAR_8,
  }));
}

describe('the console once tier keeps decisions and forecasts', () => {
  const stack = consoleAgainst(timeApis);

  it('when tier answers the history and the forecast, then the timeline explains the downgrade with the month that expired and the forecast names the first drop', async () => {
    const reader = await ConsoleSession.signIn(stack.url, READ_KEY);
    const page = await reader.get('/members?id=m-10001');
    expect(page.status).toBe(200);
    expect(page.text).toContain(
      'monthly-evaluation · fell below Gold&#39;s threshold 700 · rules 2026.1 · window 2026-04 to 2027-03 (12 months) · expired 2026-03 (101 points)',
    );
    expect(page.text).toMatch(/Gold → <strong>Silver<\/strong> <span class="muted">\(down\)<\/span>/);
    expect(page.text).toContain('href="/members/decisions?id=m-10001&amp;cursor=WzRd"');
    expect(page.text).not.toContain(
      'Tier decisions with their explanations: not available on this stack yet.',
    );
    expect(page.text).toMatch(
      /Drops to <strong data-field="drop-to">Silver<\/strong> on <span data-field="drop-at">8 March 2027<\/span> unless <span data-field="points-to-keep">97<\/span> more points/,
    );
  });
});

describe('the console reading a member as of an instant and paging decisions', () => {
  const stack = consoleAgainst(timeApis);

  it('when an operator asks for a member as of a Shanghai time, then score and tier are asked with that instant and the page says so; the other panels are read now', async () => {
    const reader = await ConsoleSession.signIn(stack.url, READ_KEY);
    const page = await reader.get('/members?id=m-10001&asOf=2026-11-08T00%3A00');
    expect(page.status).toBe(200);
    const asked = stack.calls.filter((c) => c.path.startsWith('/v1/members/m-10001/'));
    const asOf = encodeURIComponent('2026-11-07T16:00:00.000Z');
    expect(asked.map((c) => c.path)).toEqual(
      expect.arrayContaining([
        `/v1/members/m-10001/score?asOf=${asOf}`,
        `/v1/members/m-10001/tier?asOf=${asOf}`,
      ]),
    );
    expect(asked.filter((c) => c.path.includes('asOf')).map((c) => c.path.split('?')[0])).toEqual(
      expect.arrayContaining(['/v1/members/m-10001/score', '/v1/members/m-10001/tier']),
    );
    expect(asked.filter((c) => c.path.includes('asOf'))).toHaveLength(2);
    expect(page.text).toContain('data-as-of="2026-11-07T16:00:00.000Z"');
    expect(page.text).toContain('value="2026-11-08T00:00"');
  });

  it('when the as-of field is not a date, then 400 names it and no service is asked', async () => {
    const reader = await ConsoleSession.signIn(stack.url, READ_KEY);
    const before = stack.calls.length;
    const page = await reader.get('/members?id=m-10001&asOf=yesterday');
    expect(page.status).toBe(400);
    expect(page.text).toContain('As of: must be a date and time (YYYY-MM-DDTHH:MM)');
    expect(stack.calls.slice(before).filter((c) => c.path.startsWith('/v1/'))).toEqual([]);
  });

  it('when an operator pages the decisions, then the cursor goes to tier and the timeline comes back alone (htmx)', async () => {
    const reader = await ConsoleSession.signIn(stack.url, READ_KEY);
    const panel = await reader.get('/members/decisions?id=m-10001&cursor=WzRd', { 'hx-request': 'true' });
    expect(panel.status).toBe(200);
    expect(panel.text.startsWith('<section class="card card-wide" id="timeline"')).toBe(true);
    expect(stack.calls.at(-1)?.path).toBe('/v1/members/m-10001/tier/history?limit=20&cursor=WzRd');
    expect(panel.text).toContain('Newest decisions');
  });
});
