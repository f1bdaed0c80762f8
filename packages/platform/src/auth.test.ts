import { assertNoDevelopmentKeys, DEVELOPMENT_KEYS, developmentIngestKey, KeySet } from './auth';
import { ConfigError } from './config';

describe('KeySet', () => {
  const keys = new KeySet([
    ['food-secret-key', 'food'],
    ['ride-secret-key', 'mobility'],
  ] as const);

  it('when a known key is presented, then its label is returned', () => {
    expect(keys.match('food-secret-key')).toBe('food');
    expect(keys.match('ride-secret-key')).toBe('mobility');
  });

  it('when an unknown, shorter, longer or empty key is presented, then nothing matches', () => {
    for (const presented of ['food-secret-kez', 'food', 'food-secret-key-and-more', '']) {
      expect(keys.match(presented)).toBeUndefined();
    }
  });
});

describe('assertNoDevelopmentKeys', () => {
  it('when production holds a development key, then boot is refused naming the variable', () => {
    expect(() =>
      assertNoDevelopmentKeys('production', {
        READ_API_KEYS: [DEVELOPMENT_KEYS.read],
        ADMIN_API_KEYS: ['a-real-secret'],
      }),
    ).toThrow(ConfigError);
    expect(() => assertNoDevelopmentKeys('production', { READ_API_KEYS: [DEVELOPMENT_KEYS.read] })).toThrow(
      /READ_API_KEYS/,
    );
  });

  it("when production holds any source's development ingest key, a source no list names included, then boot is refused", () => {
    for (const source of ['food', 'cinema']) {
      expect(() =>
        assertNoDevelopmentKeys('production', { INGEST_API_KEYS: [developmentIngestKey(source)] }),
      ).toThrow(/INGEST_API_KEYS: development keys are refused in production/);
    }
    expect(developmentIngestKey('cinema')).toBe('dev-cinema-key');
  });

  it('when development holds development keys, or production holds real ones, then boot goes on', () => {
    expect(() =>
      assertNoDevelopmentKeys('development', { READ_API_KEYS: [DEVELOPMENT_KEYS.read] }),
    ).not.toThrow();
    expect(() => assertNoDevelopmentKeys('production', { READ_API_KEYS: ['a-real-secret'] })).not.toThrow();
  });
});
