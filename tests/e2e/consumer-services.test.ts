/**
 * The consumer services (scoring, tier, entitlement) as real processes: back to serving reads at
 * once after a SIGKILL, and exiting 1 when a consumer dies for good so the supervisor restarts them.
 */
import { TestStack, testKafka, waitFor } from '../support';

const CONSUMERS = {
  scoring: { input: 'consumption', read: '/v1/members/m-restart-1/score' },
  tier: { input: 'scoreChanged', read: '/v1/members/m-restart-1/tier' },
  entitlement: { input: 'tierChanged', read: '/v1/members/m-restart-1/entitlements' },
} as const;
const SERVICES = Object.keys(CONSUMERS) as (keyof typeof CONSUMERS)[];
const READ = { authorization: 'Bearer dev-read-key' };

async function readyz(url: string): Promise<{ status: number; checks: Record<string, string> }> {
  const response = await fetch(`${url}/readyz`);
  return {
    status: response.status,
    checks: ((await response.json()) as { checks: Record<string, string> }).checks,
  };
}

describe('the consumer services as processes', () => {
  it('when one is SIGKILLed and started again, then it serves reads at once and /readyz says joining until its group lets it in', async () => {
    // The killed member holds its partitions for the whole session timeout: the restarted process
    // cannot join its group before then, which is the window in which reads must already work.
    const stack = await TestStack.start({ services: SERVICES, env: { KAFKA_SESSION_TIMEOUT_MS: '25000' } });
    try {
      await Promise.all(
        SERVICES.map(async (service) => {
          await waitFor(async () => (await readyz(stack.url(service))).status === 200, {
            timeoutMs: 60_000,
            description: `${service} to be ready`,
          });
          await stack.kill(service, 'SIGKILL');
          stack.revive(service);
          await stack.waitUntilReady(service);

          const read = await fetch(`${stack.url(service)}${CONSUMERS[service].read}`, { headers: READ });
          expect([service, read.status]).toEqual([service, 200]);
          // Until its consumer exists the service says `startup: starting`; then `joining`, for as
          // long as the dead member holds the group.
          const consumer = `consumer:${stack.groupId(service)}`;
          const joining = await waitFor(
            async () => {
              const now = await readyz(stack.url(service));
              return now.checks[consumer] === 'joining' ? now : undefined;
            },
            { description: `${service} to report its consumer joining` },
          );
          expect([service, joining.status, joining.checks.startup]).toEqual([service, 503, 'starting']);
          const again = await fetch(`${stack.url(service)}${CONSUMERS[service].read}`, { headers: READ });
          expect([service, again.status]).toEqual([service, 200]);
          expect((await fetch(`${stack.url(service)}/healthz`)).status).toBe(200);

          const ready = await waitFor(
            async () => {
              const now = await readyz(stack.url(service));
              return now.status === 200 ? now : undefined;
            },
            { timeoutMs: 60_000, description: `${service} to join its group again` },
          );
          expect(ready.checks[consumer]).toBe('ok');
        }),
      );
    } finally {
      await stack.stop();
    }
  });

  it('when a consumer dies for good, then its process exits 1 naming it', async () => {
    const stack = await TestStack.start({ services: SERVICES, env: { KAFKA_CONSUMER_RETRIES: '1' } });
    const admin = testKafka().admin();
    await admin.connect();
    try {
      await Promise.all(
        SERVICES.map((service) =>
          waitFor(async () => (await readyz(stack.url(service))).status === 200, {
            timeoutMs: 60_000,
            description: `${service} to be ready`,
          }),
        ),
      );
      await admin.deleteTopics({ topics: SERVICES.map((service) => stack.topics[CONSUMERS[service].input]) });
      for (const service of SERVICES) {
        const { code } = await stack.exited(service);
        expect([service, code]).toEqual([service, 1]);
        expect(stack.output(service)).toContain(`consumer:${stack.groupId(service)} died`);
      }
    } finally {
      await admin.disconnect();
      await stack.stop();
    }
  });
});
