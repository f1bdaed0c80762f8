import { fuzzReadRoutes } from '@taobi/tests';
import { admin, createTierEnvironment, read, startTier, type TierEnvironment } from './harness';

describe('the tier read API under forged input', () => {
  it('when every read route is asked with forged ids and query strings, then it answers 2xx or 4xx, never 5xx', async () => {
    const environment: TierEnvironment = await createTierEnvironment();
    const service = await startTier(environment);
    try {
      await fuzzReadRoutes(service.app, [
        { path: '/v1/tiers', headers: read },
        { path: '/v1/tiers/distribution', headers: read },
        { path: '/v1/members/:id/tier', headers: read },
        { path: '/v1/admin/evaluations', headers: admin },
        { path: '/v1/admin/evaluations/:asOf', headers: admin },
      ]);
    } finally {
      await service.stop();
      await environment.close();
    }
  });
});
