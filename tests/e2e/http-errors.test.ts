/**
 * Every service, as a real process, answers fastify's own client errors in the documented body
 * (`{"error": {"code", "message", ...}}`) and sends `X-Content-Type-Options: nosniff` and
 * `Cache-Control: no-store` on every answer, errors and authenticated reads included.
 */
import { TestStack } from '../support';

const ADMIN = 'Bearer dev-admin-key';
const READ = 'Bearer dev-read-key';

/** Per service: a POST route with the key it needs (body errors), and a read with its key. */
const SERVICES: Record<
  string,
  { post: string; key: string; read: string; readKey?: string; member?: string }
> = {
  'ingest-ecommerce': { post: '/v1/events', key: 'Bearer dev-ecommerce-key', read: '/openapi.json' },
  'ingest-food': { post: '/v1/events', key: 'Bearer dev-food-key', read: '/openapi.json' },
  'ingest-travel': { post: '/v1/events', key: 'Bearer dev-travel-key', read: '/openapi.json' },
  'ingest-mobility': { post: '/v1/events', key: 'Bearer dev-mobility-key', read: '/openapi.json' },
  scoring: {
    post: '/v1/admin/evaluations',
    key: ADMIN,
    read: '/v1/members/m-1/score',
    readKey: READ,
    member: '/v1/members/:id/score',
  },
  tier: {
    post: '/v1/admin/evaluations',
    key: ADMIN,
    read: '/v1/members/m-1/tier',
    readKey: READ,
    member: '/v1/members/:id/tier',
  },
  entitlement: {
    post: '/v1/offers',
    key: 'Bearer dev-merchant-key',
    read: '/v1/members/m-1/vip88',
    readKey: READ,
    member: '/v1/members/:id/vip88',
  },
};

describe('the error format and headers of every service', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  async function expectDocumented(
    service: string,
    what: string,
    response: Response,
    status: number,
    code: string,
  ): Promise<void> {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
    expect({
      service,
      what,
      status: response.status,
      code: body.error?.code,
      message: body.error?.message,
    }).toEqual({
      message: expect.any(String),
      service,
      what,
      status,
      code,
    });
    expect(typeof body.error?.message).toBe('string');
    expect({
      service,
      what,
      nosniff: response.headers.get('x-content-type-options'),
      cache: response.headers.get('cache-control'),
    }).toEqual({
      service,
      what,
      nosniff: 'nosniff',
      cache: 'no-store',
    });
  }

  it.each(Object.keys(SERVICES))(
    'when %s meets a bad request of any kind, then each answer is in the documented body with the headers',
    async (service) => {
      const spec = SERVICES[service] as (typeof SERVICES)[string];
      const url = (path: string) => `${stack.url(service)}${path}`;
      const post = (headers: Record<string, string>, body: string) =>
        fetch(url(spec.post), { method: 'POST', headers: { authorization: spec.key, ...headers }, body });
      const json = { 'content-type': 'application/json' };

      await expectDocumented(
        service,
        'body too large',
        await post(json, JSON.stringify({ pad: 'x'.repeat(1_100_000) })),
        413,
        'PAYLOAD_TOO_LARGE',
      );
      await expectDocumented(
        service,
        'xml',
        await post({ 'content-type': 'application/xml' }, '<a/>'),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
      await expectDocumented(
        service,
        'text',
        await post({ 'content-type': 'text/plain' }, 'hello'),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
      await expectDocumented(service, 'broken JSON', await post(json, '{"a":'), 400, 'INVALID_JSON');
      await expectDocumented(service, 'empty JSON', await post(json, ''), 400, 'INVALID_JSON');
      await expectDocumented(
        service,
        'no key',
        await fetch(url(spec.post), { method: 'POST', headers: json, body: '{}' }),
        401,
        'UNAUTHORIZED',
      );
      await expectDocumented(service, 'no route', await fetch(url('/v1/nowhere')), 404, 'NOT_FOUND');
      await expectDocumented(service, 'bad escape', await fetch(url('/v1/nowhere/%ff')), 400, 'INVALID_URL');
      if (spec.member) {
        await expectDocumented(
          service,
          'bad URL',
          await fetch(url(spec.member.replace(':id', '%ff')), { headers: { authorization: READ } }),
          400,
          'INVALID_URL',
        );
        await expectDocumented(
          service,
          'long id',
          await fetch(url(spec.member.replace(':id', 'a'.repeat(101))), { headers: { authorization: READ } }),
          414,
          'URI_TOO_LONG',
        );
      }

      const read = await fetch(url(spec.read), {
        headers: spec.readKey ? { authorization: spec.readKey } : {},
      });
      expect({
        service,
        status: read.status,
        nosniff: read.headers.get('x-content-type-options'),
        cache: read.headers.get('cache-control'),
      }).toEqual({
        service,
        status: 200,
        nosniff: 'nosniff',
        cache: 'no-store',
      });
    },
  );
});
