import { fuzzReadRoutes } from '@taobi/tests';
import { Harness, MERCHANT, READ } from './harness';

describe('the entitlement read API under forged input', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.start();
  });

  afterAll(async () => {
    await h?.close();
  });

  it.each(['99999999999999999999', '9007199254740993', '0', '-1', '1.5', '1e3', ' 1', 'abc', ''])(
    'when the entitlements `before` is %j, then 400 INVALID_CURSOR naming before',
    async (before) => {
      const response = await h.inject({
        method: 'GET',
        url: `/v1/members/m-1/entitlements?before=${encodeURIComponent(before)}`,
        headers: READ,
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'INVALID_CURSOR', fields: [{ field: 'before' }] });
    },
  );

  it('when a member id is malformed, then 400 names the field `id` (the route parameter), as scoring and tier do', async () => {
    const response = await h.inject({
      method: 'GET',
      url: '/v1/members/bad%20id/entitlements',
      headers: READ,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'VALIDATION_FAILED', fields: [{ field: 'id' }] });
  });

  it('when every read route is asked with forged ids and query strings, then it answers 2xx or 4xx, never 5xx', async () => {
    await fuzzReadRoutes(h.service.app, [
      { path: '/v1/benefits', headers: READ },
      { path: '/v1/members/:id/entitlements', headers: READ, query: ['status', 'limit', 'before'] },
      { path: '/v1/members/:id/vip88', headers: READ },
      { path: '/v1/members/:id/offers', headers: READ, query: ['limit', 'category', 'merchantId'] },
      { path: '/v1/members/:id/welcome-gift', headers: READ },
      { path: '/v1/lottery/commitments', headers: READ, query: ['limit'] },
      { path: '/v1/lottery/draws/:drawId', headers: READ },
      { path: '/v1/offers', headers: MERCHANT, query: ['limit'] },
    ]);
  });
});
