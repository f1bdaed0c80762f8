import type { FastifyRequest } from 'fastify';
import { DEVELOPMENT_INGEST_KEYS, ingestKeysSchema, SourceKeys } from './keys';

const request = (authorization?: string) =>
  ({ headers: authorization ? { authorization } : {} }) as unknown as FastifyRequest;

describe('INGEST_API_KEYS', () => {
  it('when unset, then the development keys bind each source to its own key', () => {
    expect(ingestKeysSchema.parse(DEVELOPMENT_INGEST_KEYS)).toEqual([
      { source: 'ecommerce', key: 'dev-ecommerce-key' },
      { source: 'food', key: 'dev-food-key' },
      { source: 'travel', key: 'dev-travel-key' },
      { source: 'mobility', key: 'dev-mobility-key' },
    ]);
  });

  it('when a source has two keys (rotation), then both are kept', () => {
    expect(ingestKeysSchema.parse('food:old-food-key-1, food:new-food-key-2')).toHaveLength(2);
  });

  it.each([
    ['an unknown source', 'grocery:long-enough-key'],
    ['no source', 'long-enough-key'],
    ['a short key', 'food:short'],
    ['one key for two sources', 'food:shared-key-123,travel:shared-key-123'],
  ])('when it has %s, then it is refused without echoing the key', (_what, value) => {
    const result = ingestKeysSchema.safeParse(value);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).not.toMatch(/long-enough-key|short|shared-key-123/);
  });
});

describe('SourceKeys', () => {
  const keys = new SourceKeys(
    ingestKeysSchema.parse('food:food-key-aaaa,food:food-key-bbbb,travel:travel-key-1'),
  );

  it("when the service's own key is presented, then its source and a loggable key id come back", () => {
    expect(keys.authenticate(request('Bearer food-key-bbbb'), 'food')).toEqual({
      source: 'food',
      keyId: 'food#2',
    });
  });

  it('when no key or an unknown key is presented, then 401', () => {
    for (const header of [undefined, 'Bearer nope-nope-nope', 'Basic Zm9vOmJhcg==', 'Bearer ']) {
      expect(() => keys.authenticate(request(header), 'food')).toThrow(
        expect.objectContaining({ statusCode: 401 }),
      );
    }
  });

  it("when another source's key is presented, then 403", () => {
    expect(() => keys.authenticate(request('Bearer travel-key-1'), 'food')).toThrow(
      expect.objectContaining({ statusCode: 403, code: 'FORBIDDEN' }),
    );
  });
});
