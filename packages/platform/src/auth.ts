import { digestOf } from '@taobi/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ConfigError, commaSeparated } from './config';
import { Errors } from './errors';

/**
 * The development keys of the local stack and docker-compose (docs/design.md, "Keys and roles"): the read,
 * admin, checkout and merchant keys, and `dev-<source>-key` for each source's ingest API
 * (`developmentIngestKey`). A production process refuses to start while any of them is configured.
 */
export const DEVELOPMENT_KEYS = {
  read: 'dev-read-key',
  admin: 'dev-admin-key',
  checkout: 'dev-checkout-key',
  /** Bound to the merchant `dev-merchant`. */
  merchant: 'dev-merchant-key',
  /** Bound to the merchant `dev-merchant-2`. */
  merchant2: 'dev-merchant-2-key',
} as const;

/** The merchants the development merchant keys are bound to. */
export const DEVELOPMENT_MERCHANT_KEYS = [
  { merchantId: 'dev-merchant', key: DEVELOPMENT_KEYS.merchant },
  { merchantId: 'dev-merchant-2', key: DEVELOPMENT_KEYS.merchant2 },
] as const;

/** The development key of a source's ingest API: `dev-<source>-key` (sources are data). */
export function developmentIngestKey(source: string): string {
  return `dev-${source}-key`;
}

/**
 * A key of the development stack: one of `DEVELOPMENT_KEYS` (read, admin, checkout, the merchants'),
 * or any `dev-<source>-key`.
 */
export function isDevelopmentKey(key: string): boolean {
  return (Object.values(DEVELOPMENT_KEYS) as string[]).includes(key) || /^dev-[a-z0-9-]+-key$/.test(key);
}

const keyList = commaSeparated.pipe(z.array(z.string().min(8, 'keys must be at least 8 characters')).min(1));

/** A merchant id a key is bound to: the external-id characters but `:`, which separates it from the key. */
export const merchantIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1 to 64 characters of A-Z a-z 0-9 _ . -');

export interface MerchantKey {
  merchantId: string;
  key: string;
}

/**
 * A list of comma-separated `<owner>:<key>` pairs (`INGEST_API_KEYS`: sources, `MERCHANT_API_KEYS`:
 * merchants), parsed into `{ [field]: owner, key }` entries. An owner may have several keys
 * (rotation); a key is bound to exactly one owner. Problems name the entry, never the key: a
 * configuration error ends up in a log.
 */
export function ownedKeyList<F extends string, O extends string>(field: F, owner: z.ZodType<O>) {
  type Entry = { [K in F]: O } & { key: string };
  return z
    .string()
    .min(1)
    .transform((value, ctx): Entry[] => {
      const entries: Entry[] = [];
      const owners = new Map<string, O>();
      for (const [index, raw] of value.split(',').entries()) {
        const pair = raw.trim();
        if (!pair) continue;
        const colon = pair.indexOf(':');
        const parsed = owner.safeParse(pair.slice(0, Math.max(colon, 0)));
        const key = pair.slice(colon + 1).trim();
        const where = `entry ${index + 1}`;
        if (colon < 1 || !parsed.success) {
          ctx.addIssue({ code: 'custom', message: `${where}: expected <${field}>:<key>` });
        } else if (key.length < 8) {
          ctx.addIssue({ code: 'custom', message: `${where}: keys must be at least 8 characters` });
        } else if (owners.has(key) && owners.get(key) !== parsed.data) {
          ctx.addIssue({ code: 'custom', message: `${where}: the same key is bound to two ${field}s` });
        } else {
          owners.set(key, parsed.data);
          entries.push({ [field]: parsed.data, key } as Entry);
        }
      }
      if (entries.length === 0) ctx.addIssue({ code: 'custom', message: 'no keys given' });
      return entries;
    });
}

/** `MERCHANT_API_KEYS`: comma-separated `<merchantId>:<key>` pairs. */
const merchantKeyList = ownedKeyList('merchantId', merchantIdSchema);

/** Read and admin keys, which every service with read or admin APIs takes. */
export const accessKeysConfigSchema = z.object({
  READ_API_KEYS: keyList.default([DEVELOPMENT_KEYS.read]),
  ADMIN_API_KEYS: keyList.default([DEVELOPMENT_KEYS.admin]),
});

/** The checkout's and the merchants' keys, for the services that serve them (entitlement). */
export const commerceKeysConfigSchema = z.object({
  CHECKOUT_API_KEYS: keyList.default([DEVELOPMENT_KEYS.checkout]),
  MERCHANT_API_KEYS: merchantKeyList.default(DEVELOPMENT_MERCHANT_KEYS.map((entry) => ({ ...entry }))),
});

const digest = (value: string) => digestOf('sha256', value);

/**
 * A set of keys that answers "is this one of them?" in time independent of where the presented
 * key differs: keys are known by their SHA-256 digests, and a presented key is hashed and its
 * digest looked up. How long the lookup takes depends on the digest only, which says nothing of how
 * close the key came to a real one (nor of its length).
 */
export class KeySet<Label = string> {
  private readonly labels: Map<string, Label>;

  constructor(keys: Iterable<readonly [key: string, label: Label]>) {
    this.labels = new Map([...keys].map(([key, label]) => [digest(key), label] as const));
  }

  /** The label of the matching key (the last one given, for a key given twice), or undefined. */
  match(presented: string): Label | undefined {
    return this.labels.get(digest(presented));
  }
}

/** The bearer token of a request, or undefined. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** A fastify `onRequest` hook admitting only requests bearing one of `keys` (401 otherwise). */
export function requireKey(keys: readonly string[]) {
  const set = new KeySet(keys.map((key) => [key, 'ok'] as const));
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const token = bearerToken(request);
    if (!token || !set.match(token)) throw Errors.unauthorized();
  };
}

/**
 * What a key may do (docs/design.md, "Keys and roles"): `read` the read APIs, `admin` the operator
 * jobs, `checkout` activate 88VIP, use grants and redeem offers, `merchant` manage its own offers.
 */
export type Role = 'read' | 'admin' | 'checkout' | 'merchant';

/** Who is calling, once the key is known. `merchantId` is set for merchant keys only. */
export interface Caller {
  role: Role;
  merchantId: string | null;
}

/** The keys of a service, by role, as its config holds them (roles it does not serve are absent). */
export interface RoleKeysConfig {
  READ_API_KEYS?: readonly string[];
  ADMIN_API_KEYS?: readonly string[];
  CHECKOUT_API_KEYS?: readonly string[];
  MERCHANT_API_KEYS?: readonly MerchantKey[];
}

export type RoleHook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

export interface AccessControl {
  /**
   * An `onRequest` hook admitting keys of one of `roles`: 401 without a key or with an unknown one,
   * 403 with a known key of another role. The caller is then `callerOf(request)`.
   */
  require(...roles: Role[]): RoleHook;
}

const callers = new WeakMap<FastifyRequest, Caller>();

/** The caller a `require` hook admitted; throws when the route has no such hook (a programming error). */
export function callerOf(request: FastifyRequest): Caller {
  const caller = callers.get(request);
  if (!caller) throw new Error(`no caller for ${request.method} ${request.url}: the route has no key hook`);
  return caller;
}

/**
 * The one place where keys become roles. Refuses (ConfigError, naming the variables) a production
 * process holding a development key, and a key given to two roles or two merchants: a key means one
 * thing.
 */
export function createAccessControl(environment: string, config: RoleKeysConfig): AccessControl {
  const plain = (variable: string, role: Role, keys: readonly string[] = []) =>
    keys.map((key) => ({ variable, key, caller: { role, merchantId: null } as Caller }));
  const byRole = [
    ...plain('READ_API_KEYS', 'read', config.READ_API_KEYS),
    ...plain('ADMIN_API_KEYS', 'admin', config.ADMIN_API_KEYS),
    ...plain('CHECKOUT_API_KEYS', 'checkout', config.CHECKOUT_API_KEYS),
    ...(config.MERCHANT_API_KEYS ?? []).map(({ merchantId, key }) => ({
      variable: 'MERCHANT_API_KEYS',
      key,
      caller: { role: 'merchant', merchantId } as Caller,
    })),
  ];

  assertNoDevelopmentKeys(
    environment,
    Object.fromEntries(
      byRole.map(({ variable }) => [
        variable,
        byRole.filter((e) => e.variable === variable).map((e) => e.key),
      ]),
    ),
  );
  const owner = new Map<string, [string, Caller]>();
  const problems: { variable: string; message: string }[] = [];
  for (const { variable, key, caller } of byRole) {
    const seen = owner.get(key);
    if (seen && (seen[1].role !== caller.role || seen[1].merchantId !== caller.merchantId)) {
      problems.push({ variable, message: `a key of ${variable} is also given to ${seen[0]}` });
    }
    owner.set(key, [variable, caller]);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const keys = new KeySet<Caller>(byRole.map(({ key, caller }) => [key, caller] as const));
  return {
    require(...roles) {
      const allowed = new Set(roles);
      // Tagged with its roles, so the route's OpenAPI entry names the key it takes (api-docs.ts).
      const hook: RoleHook = async (request) => {
        const token = bearerToken(request);
        const caller = token ? keys.match(token) : undefined;
        if (!caller) throw Errors.unauthorized();
        if (!allowed.has(caller.role)) {
          throw Errors.forbidden(
            `a ${caller.role} key may not call this endpoint (it takes: ${roles.join(', ')})`,
          );
        }
        callers.set(request, caller);
      };
      return Object.assign(hook, { roles });
    },
  };
}

/** Refuses to start a production process that still holds a development key. */
export function assertNoDevelopmentKeys(
  environment: string,
  configured: Record<string, readonly string[]>,
): void {
  if (environment !== 'production') return;
  const problems = Object.entries(configured)
    .filter(([, keys]) => keys.some(isDevelopmentKey))
    .map(([variable]) => ({ variable, message: 'development keys are refused in production' }));
  if (problems.length > 0) throw new ConfigError(problems);
}
