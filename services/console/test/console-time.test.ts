/**
 * The console's member view once tier answers issue "Time"'s endpoints: the timeline lists the
 * decisions with their explanation (the months an evaluation expired included) and the forecast
 * names the first evaluation that would move the member down. Stand-ins answer as tier does.
 */
import { ConsoleSession } from '@taobi/tests';
import type { FastifyInstance } from 'fastify';
import type { ConsoleService } from '../src/app';
import type { UpstreamService } from '../src/config';
import { todaysApis } from './fixtures';
import { READ_KEY, startConsole, startFakeServices } from './harness';

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
    nextCursor: null,
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
  let services: Awaited<ReturnType<typeof startFakeServices>>;
  let consoleService: ConsoleService;
  let url: string;

  beforeAll(async () => {
    services = await startFakeServices(timeApis);
    ({ service: consoleService, url } = await startConsole(services.url));
  });

  afterAll(async () => {
    await consoleService?.app.close();
    await consoleService?.stop();
    await services?.close();
  });

  it('when tier answers the history and the forecast, then the timeline explains the downgrade with the month that expired and the forecast names the first drop', async () => {
    const reader = await ConsoleSession.signIn(url, READ_KEY);
    const page = await reader.get('/members?id=m-10001');
    expect(page.status).toBe(200);
    expect(page.text).toContain(
      'monthly-evaluation · threshold 700 · window 2026-04 to 2027-03 · expired 2026-03 (101 points)',
    );
    expect(page.text).not.toContain(
      'Tier decisions with their explanations: not available on this stack yet.',
    );
    expect(page.text).toMatch(/Drops to <strong>Silver<\/strong> on [^<]+ unless 97 more points/);
  });
});
