import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ConfigError } from './config';
import { Errors } from './errors';

/**
 * The development keys of the local stack and docker-compose (docs/design.md, "Keys and roles"): the read and admin keys,
 * and `dev-<source>-key` for each source's ingest API (`developmentIngestKey`). A production
 * process refuses to start while any of them is configured.
 */
export const DEVELOPMENT_KEYS = {
  read: 'dev-read-key',
  admin: 'dev-admin-key',
} as const;

/** The development key of a source's ingest API: `dev-<source>-key` (sources are data). */
export function developmentIngestKey(source: string): string {
  return `dev-${source}-key`;
}

/** A key of the development stack: the read or admin one, or any `dev-<source>-key`. */
export function isDevelopmentKey(key: string): boolean {
  return (Object.values(DEVELOPMENT_KEYS) as string[]).includes(key) || /^dev-[a-z0-9-]+-key$/.test(key);
}

const keyList = z
  .string()
  .min(1)
  .transform((value) =>
    value
      .split(',')
      .map((key) => key.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().min(8, 'keys must be at least 8 characters')).min(1));

/** Read and admin keys, which every service with read or admin APIs takes. */
export const accessKeysConfigSchema = z.object({
  READ_API_KEYS: keyList.default([DEVELOPMENT_KEYS.read]),
  ADMIN_API_KEYS: keyList.default([DEVELOPMENT_KEYS.admin]),
});

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * A set of keys that answers "is this one of them?" in time independent of where the presented
 * key differs (keys are hashed first so lengths do not leak either).
 */
export class KeySet<Label extends string = string> {
  private readonly entries: { digest: Buffer; label: Label }[];

  constructor(keys: Iterable<readonly [key: string, label: Label]>) {
    this.entries = [...keys].map(([key, label]) => ({ digest: digest(key), label }));
  }

  /** The label of the matching key, or undefined. Compares against every key, always. */
  match(presented: string): Label | undefined {
    const candidate = digest(presented);
    let found: Label | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, candidate)) found = entry.label;
    }
    return found;
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
