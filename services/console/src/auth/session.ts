import { randomBytes } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifySession, { type SessionStore } from '@fastify/session';
import { Errors, KeySet } from '@taobi/platform';
import type { FastifyInstance, FastifyReply, FastifyRequest, Session } from 'fastify';
import { LRUCache } from 'lru-cache';

export type Role = 'read' | 'admin';

/** Who is signed in. The admin key stays here, server-side: it is what admin jobs present. */
export interface Operator {
  role: Role;
  /** Only for admins: the key the console presents to the services' admin APIs on their behalf. */
  adminKey?: string;
  signedInAt: string;
}

declare module 'fastify' {
  interface Session {
    operator?: Operator;
  }
}

export interface SessionOptions {
  readKeys: readonly string[];
  adminKeys: readonly string[];
  secret?: string;
  ttlMinutes: number;
  /** Send the cookie over HTTPS only. */
  secure: boolean;
  /** Bounds the sessions held in memory; the least recently used go first. */
  maxSessions?: number;
}

export const SESSION_COOKIE = 'taobi_console';

/**
 * Sessions live in this process's memory (an LRU with the session's lifetime as TTL), so a restart
 * signs everyone out; the cookie carries only the signed session id.
 */
function memoryStore(maxSessions: number, ttlMs: number): SessionStore {
  const sessions = new LRUCache<string, Session>({ max: maxSessions, ttl: ttlMs });
  return {
    set: (id, session, done) => {
      sessions.set(id, session);
      done();
    },
    get: (id, done) => done(null, sessions.get(id) ?? null),
    destroy: (id, done) => {
      sessions.delete(id);
      done();
    },
  };
}

/**
 * Cookies, the server-side session (HttpOnly, SameSite=Strict cookie holding only a signed id),
 * form bodies, and the per-session CSRF secret that every POST is checked against.
 */
export async function registerSessions(app: FastifyInstance, options: SessionOptions): Promise<void> {
  const ttlMs = options.ttlMinutes * 60_000;
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    cookieName: SESSION_COOKIE,
    secret: options.secret ?? randomBytes(32).toString('base64url'),
    store: memoryStore(options.maxSessions ?? 10_000, ttlMs),
    saveUninitialized: false,
    cookie: {
      httpOnly: true,
      sameSite: 'strict',
      path: '/',
      maxAge: ttlMs,
      secure: options.secure,
    },
  });
  await app.register(fastifyFormbody, { bodyLimit: 64 * 1024 });
  await app.register(fastifyCsrf, { sessionPlugin: '@fastify/session' });
}

/** The role a presented key grants (`KeySet`: by its digest, in time that says nothing of the key); undefined when it is no key of ours. */
export function createKeyChecker(readKeys: readonly string[], adminKeys: readonly string[]) {
  const keys = new KeySet<Role>([
    ...readKeys.map((key) => [key, 'read'] as const),
    ...adminKeys.map((key) => [key, 'admin'] as const),
  ]);
  return (presented: string): Role | undefined => keys.match(presented.trim());
}

export function operatorOf(request: FastifyRequest): Operator | undefined {
  return request.session.operator;
}

/** Starts a fresh session (a new id: no fixation) holding the operator. */
export async function signIn(request: FastifyRequest, operator: Operator): Promise<void> {
  await request.session.regenerate();
  request.session.operator = operator;
}

export async function signOut(request: FastifyRequest): Promise<void> {
  await request.session.destroy();
}

/** Sends a browser to the sign-in page (htmx requests through its HX-Redirect header). */
export function toSignIn(request: FastifyRequest, reply: FastifyReply) {
  const next = request.method === 'GET' ? `?next=${encodeURIComponent(request.url)}` : '';
  if (request.headers['hx-request']) return reply.header('hx-redirect', `/sign-in${next}`).status(401).send();
  return reply.redirect(`/sign-in${next}`, 303);
}

/** Only an admin's session carries an admin key; anyone else is refused (403), whatever they post. */
export function adminKeyOf(request: FastifyRequest): string {
  const operator = operatorOf(request) as Operator;
  if (operator.role !== 'admin' || !operator.adminKey) {
    throw Errors.forbidden('admin jobs need the admin key: this session is read-only');
  }
  return operator.adminKey;
}
