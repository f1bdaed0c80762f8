import { fuzzReadRoutes, uniqueId } from '@taobi/tests';
import { ADMIN, order, produce, READ, scoringSuite, waitForLedger } from './harness';

describe('the scoring read API under forged input', () => {
  const scoring = scoringSuite();

  const history = (memberId: string, cursor: string) =>
    scoring.service.app.inject({
      url: `/v1/members/${memberId}/score/history?cursor=${cursor}`,
      headers: READ,
    });
  const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it.each([
    ['a date Postgres cannot read', forged(['1', 'ecommerce', 'o-1'])],
    ['a year-275760 date', forged(['+275760-09-13T00:00:00.000Z', 'ecommerce', 'o-1'])],
    ['a year-0 date', forged(['0000-12-31T10:00:00.000Z', 'ecommerce', 'o-1'])],
    ['a NUL character', forged(['2026-11-01T00:00:00.000Z', 'ecommerce', 'o-\u0000'])],
    ['an unknown source', forged(['2026-11-01T00:00:00.000Z', 'shop', 'o-1'])],
    ['a number where a string goes', forged(['2026-11-01T00:00:00.000Z', 'ecommerce', 1])],
    ['a fourth value', forged(['2026-11-01T00:00:00.000Z', 'ecommerce', 'o-1', 'x'])],
    ['not base64url JSON', 'nope'],
    ['nothing', ''],
  ])('when the history cursor holds %s, then 400 INVALID_CURSOR naming cursor', async (_what, cursor) => {
    const response = await history('m-1', cursor);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({
      code: 'INVALID_CURSOR',
      fields: [{ field: 'cursor', message: 'not a cursor this API returned' }],
    });
  });

  it('when a cursor the API returned comes back, then it pages on', async () => {
    const member = uniqueId('m');
    const events = [order({ memberId: member, amount: 5_000 }), order({ memberId: member, amount: 6_000 })];
    await produce(scoring.stage, events);
    await waitForLedger(
      scoring.stage,
      events.map((e) => e.eventId),
    );
    const first = (
      await scoring.service.app.inject({ url: `/v1/members/${member}/score/history?limit=1`, headers: READ })
    ).json();
    const second = await history(member, first.nextCursor);
    expect(second.statusCode).toBe(200);
    expect(
      [...first.contributions, ...second.json().contributions]
        .map((c: { eventId: string }) => c.eventId)
        .sort(),
    ).toEqual(events.map((e) => e.eventId).sort());
  });

  it('when every read route is asked with forged ids and query strings, then it answers 2xx or 4xx, never 5xx', async () => {
    await fuzzReadRoutes(scoring.service.app, [
      { path: '/v1/members/:id/score', headers: READ, query: ['asOf'] },
      { path: '/v1/members/:id/score/versions', headers: READ, query: ['limit', 'after'] },
      { path: '/v1/rules', headers: READ, query: ['asOf'] },
      { path: '/v1/rules/versions', headers: READ },
      { path: '/v1/members/:id/score/history', headers: READ, query: ['limit', 'cursor'] },
      { path: '/v1/admin/evaluations', headers: ADMIN },
    ]);
  });
});
