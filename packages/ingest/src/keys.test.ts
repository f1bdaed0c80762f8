import { DEFAULT_RULE_SET, sourceIds } from '@taobi/rules';
import type { FastifyRequest } from 'fastify';
import { developmentIngestKeys, ingestKeysSchema, keySourceProblems, SourceKeys } from './keys';

const request = (authorization?: string) =>
  ({ headers: authorization ? { authorization } : {} }) as unknown as FastifyRequest;

describe('INGEST_API_KEYS', () => {
  it('when unset, then the development keys bind each source of the rule set to its own key', () => {
    expect(developmentIngestKeys(sourceIds(DEFAULT_RULE_SET.score))).toEqual([
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
    ['a source that is not an id', 'Grocery Store:long-enough-key'],
    ['no source', 'long-enough-key'],
    ['a short key', 'food:short'],
    ['one key for two sources', 'food:shared-key-123,travel:shared-key-123'],
  ])('when it has %s, then it is refused without echoing the key', (_what, value) => {
    const result = ingestKeysSchema.safeParse(value);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).not.toMatch(/long-enough-key|short|shared-key-123/);
  });

  it('when a key names a source the rule set does not have, or the own source has none, then each is a problem', () => {
    const sources = sourceIds(DEFAULT_RULE_SET.score);
    const keys = ingestKeysSchema.parse('grocery:long-enough-key,food:food-key-aaaa');
    expect(keySourceProblems(keys, sources, 'food')).toEqual([
      'a key for grocery, which is not a source of the rule set',
    ]);
    expect(keySourceProblems(keys, [...sources, 'grocery'], 'travel')).toEqual([
      'no key for the travel source',
    ]);
    expect(JSON.stringify(keySourceProblems(keys, sources, 'travel'))).not.toMatch(/long-enough-key|aaaa/);
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
