import {
  accessKeysConfigSchema,
  assertNoDevelopmentKeys,
  callerOf,
  commerceKeysConfigSchema,
  createAccessControl,
  DEVELOPMENT_KEYS,
  developmentIngestKey,
  KeySet,
} from './auth';
import { ConfigError, loadConfig } from './config';
import { createHttpApp } from './http-app';
import { createLogger } from './logger';
import { createMetricsRegistry } from './metrics';

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

describe('createAccessControl', () => {
  const keys = {
    READ_API_KEYS: ['the-read-key'],
    ADMIN_API_KEYS: ['the-admin-key'],
    CHECKOUT_API_KEYS: ['the-checkout-key'],
    MERCHANT_API_KEYS: [
      { merchantId: 'shop-a', key: 'merchant-a-key' },
      { merchantId: 'shop-b', key: 'merchant-b-key' },
    ],
  };

  function appWith(access: ReturnType<typeof createAccessControl>) {
    const app = createHttpApp({
      logger: createLogger({ name: 'test', level: 'silent' }),
      metrics: createMetricsRegistry('test'),
    });
    app.post('/offers', { onRequest: access.require('merchant') }, async (request) => callerOf(request));
    app.post('/pay', { onRequest: access.require('checkout', 'admin') }, async (request) =>
      callerOf(request),
    );
    return app;
  }
  const call = (app: ReturnType<typeof appWith>, url: string, key?: string) =>
    app.inject({ method: 'POST', url, headers: key ? { authorization: `Bearer ${key}` } : {} });

  it('when a key of an admitted role calls, then the route sees its role and, for a merchant, its merchant', async () => {
    const app = appWith(createAccessControl('development', keys));
    expect((await call(app, '/offers', 'merchant-b-key')).json()).toEqual({
      role: 'merchant',
      merchantId: 'shop-b',
    });
    expect((await call(app, '/pay', 'the-checkout-key')).json()).toEqual({
      role: 'checkout',
      merchantId: null,
    });
    expect((await call(app, '/pay', 'the-admin-key')).json()).toEqual({ role: 'admin', merchantId: null });
  });

  it('when a known key of another role calls, then 403; no key or an unknown one, then 401', async () => {
    const app = appWith(createAccessControl('development', keys));
    const forbidden = await call(app, '/offers', 'the-checkout-key');
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error.code).toBe('FORBIDDEN');
    expect((await call(app, '/pay', 'the-read-key')).statusCode).toBe(403);
    expect((await call(app, '/pay', 'merchant-a-key')).statusCode).toBe(403);
    expect((await call(app, '/pay')).statusCode).toBe(401);
    expect((await call(app, '/pay', 'the-checkout-kez')).statusCode).toBe(401);
  });

  it('when one key is given two roles or two merchants, then boot is refused naming the variable', () => {
    expect(() =>
      createAccessControl('development', { ...keys, CHECKOUT_API_KEYS: ['the-admin-key'] }),
    ).toThrow(/CHECKOUT_API_KEYS: a key of CHECKOUT_API_KEYS is also given to ADMIN_API_KEYS/);
    expect(() =>
      createAccessControl('development', {
        MERCHANT_API_KEYS: [
          { merchantId: 'shop-a', key: 'merchant-a-key' },
          { merchantId: 'shop-b', key: 'merchant-a-key' },
        ],
      }),
    ).toThrow(ConfigError);
  });

  it('when production holds any development key, checkout and merchant ones included, then boot is refused naming it', () => {
    const defaults = loadConfig(commerceKeysConfigSchema.extend(accessKeysConfigSchema.shape), {});
    expect(defaults.MERCHANT_API_KEYS).toEqual([
      { merchantId: 'dev-merchant', key: DEVELOPMENT_KEYS.merchant },
      { merchantId: 'dev-merchant-2', key: DEVELOPMENT_KEYS.merchant2 },
    ]);
    for (const variable of ['CHECKOUT_API_KEYS', 'MERCHANT_API_KEYS']) {
      const config = { ...keys, [variable]: (defaults as Record<string, unknown>)[variable] };
      expect(() => createAccessControl('production', config)).toThrow(new RegExp(variable));
      expect(() => createAccessControl('development', config)).not.toThrow();
    }
    expect(() => createAccessControl('production', keys)).not.toThrow();
  });
});

describe('MERCHANT_API_KEYS', () => {
  it('when pairs are given, then each key is bound to its merchant; a malformed entry is named without its key', () => {
    expect(
      loadConfig(commerceKeysConfigSchema, { MERCHANT_API_KEYS: 'm-1:key-one-123, m-1:key-two-456' })
        .MERCHANT_API_KEYS,
    ).toEqual([
      { merchantId: 'm-1', key: 'key-one-123' },
      { merchantId: 'm-1', key: 'key-two-456' },
    ]);
    let error: unknown;
    try {
      loadConfig(commerceKeysConfigSchema, { MERCHANT_API_KEYS: 'no-colon-secret-key,m 2:short' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toMatch(/entry 1: expected <merchantId>:<key>.*entry 2: expected/);
    expect(String(error)).not.toContain('secret');
  });
});
