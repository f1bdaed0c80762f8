import { STATUS_CODES } from 'node:http';
import fastifySwagger, { type SwaggerOptions } from '@fastify/swagger';
import fastifySwaggerUi, { type FastifySwaggerUiOptions } from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import { createJsonSchemaTransform, createJsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { OpenAPIV3_1 } from 'openapi-types';
import { z } from 'zod';
import type { Role } from './auth';
import { badCursor, badField, badFields, type ErrorDoc, Errors } from './errors';

/** The error body every 4xx and 5xx answer carries (docs/design.md, "Errors"). */
export const errorBodySchema = z
  .object({
    error: z
      .looseObject({
        code: z.string().describe('Stable, machine-readable: switch on it.'),
        message: z.string(),
        fields: z
          .array(
            z.object({
              field: z.string().describe('Dotted path, e.g. `events.3.amount`; empty for the body itself.'),
              message: z.string(),
            }),
          )
          .optional()
          .describe('Each bad field of the request, when the error is about some.'),
      })
      .describe('Some codes add what the client ran into, e.g. the id of what already exists.'),
  })
  .describe('The error body of every 4xx and 5xx answer.');

/** An error answer of a route: its meaning, and the error body. */
const errorAnswer = (description: string): ResponseObject => ({
  description,
  content: { 'application/json': { schema: errorBodySchema } },
});

/** How each kind of key is sent: every one is a bearer key (docs/design.md, "Keys and roles"). */
export const SECURITY_SCHEMES: Record<Role | 'ingest', OpenAPIV3_1.SecuritySchemeObject> = {
  read: { type: 'http', scheme: 'bearer', description: 'A read key (READ_API_KEYS): the read APIs.' },
  admin: { type: 'http', scheme: 'bearer', description: 'An admin key (ADMIN_API_KEYS): operator jobs.' },
  checkout: {
    type: 'http',
    scheme: 'bearer',
    description: 'A checkout key (CHECKOUT_API_KEYS): 88VIP activation, grant use, offer redemption.',
  },
  merchant: {
    type: 'http',
    scheme: 'bearer',
    description: 'A merchant key (MERCHANT_API_KEYS), bound to one merchant: its own offers.',
  },
  ingest: {
    type: 'http',
    scheme: 'bearer',
    description: "A platform's ingest key (INGEST_API_KEYS), bound to its source.",
  },
};

/** The name of a security scheme in the documents: `readKey`, `ingestKey`. */
const schemeName = (role: Role | 'ingest') => `${role}Key`;

/** The errors of a keyed route, documented for it without saying so (`security`, `access.require`). */
const KEY_ERRORS: readonly ErrorDoc[] = [
  Errors.unauthorized.doc('no bearer key, or an unknown one'),
  Errors.forbidden.doc('a known key that may not call this endpoint'),
];

/**
 * What every API route may answer besides its own errors: the rate limit (when one is set), and a
 * dependency that did not answer in time or the service stopping.
 */
export const API_ROUTE_ERRORS: readonly ErrorDoc[] = [
  Errors.rateLimited.doc('too many requests; Retry-After says when to come back'),
  Errors.unavailable.doc(
    'a dependency did not answer in time, or the service is stopping; retry after Retry-After',
  ),
];

const INTERNAL_ERROR = Errors.internal.doc('an unexpected error; nothing internal is in the answer');

/**
 * The meaning of each error status of a route, from the errors it lists: the codes of one status in
 * the order listed, each with its cases (`VALIDATION_FAILED: \`asOf\` is not ISO-8601; \`id\` ...`).
 */
export function errorMeanings(errors: readonly ErrorDoc[]): Record<number, string> {
  const byStatus = new Map<number, Map<string, string[]>>();
  for (const { status, code, when } of errors) {
    const codes = byStatus.get(status) ?? new Map<string, string[]>();
    codes.set(code, [...(codes.get(code) ?? []), when]);
    byStatus.set(status, codes);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, codes]) => [
      status,
      `${[...codes].map(([code, whens]) => `${code}: ${whens.join('; ')}`).join(', or ')}.`,
    ]),
  );
}

export interface RouteDocs {
  summary: string;
  /** The operation's id in the document (default: derived by @fastify/swagger from the route). */
  operationId?: string;
  description?: string;
  tags?: string[];
  /** The key the route takes; routes guarded by `access.require(...)` are found without it. */
  security?: Role | 'ingest';
  params?: z.ZodType;
  querystring?: z.ZodType;
  body?: z.ZodType;
  headers?: z.ZodType;
  /** The success answers, by status: a zod schema of the JSON body, or a response object. */
  responses: Record<number, z.ZodType | ResponseObject>;
  /** The errors the route answers besides 401 / 403 (added for a keyed route) and 500 (every route):
   *  `[badField('asOf', 'is not ISO-8601'), Errors.notFound.doc('no such draw')]`. */
  errors?: readonly ErrorDoc[];
  /** The route takes a key (its guard is not known here): document 401 and 403. */
  keyed?: boolean;
}

/** An answer with headers, or not JSON (`/metrics`' text). */
export interface ResponseObject {
  description: string;
  headers?: Record<string, { description?: string; schema: Record<string, unknown> }>;
  content: Record<string, { schema: z.ZodType }>;
}

/**
 * The `schema` of a documented route: its request parts, its answers (the error body for every error
 * status), its key. The request schemas are the zod schemas its handler parses with; fastify's
 * validator is a pass-through (`registerApiDocs`), so a handler keeps its order of checks and the
 * error fields it names.
 */
export function documented(docs: RouteDocs): FastifySchema {
  const meanings = errorMeanings([
    ...(docs.security || docs.keyed ? KEY_ERRORS : []),
    ...(docs.errors ?? []),
    INTERNAL_ERROR,
  ]);
  const errors = Object.fromEntries(
    Object.entries(meanings).map(([status, meaning]) => [status, errorAnswer(meaning)]),
  );
  const responses = Object.fromEntries(
    Object.entries(docs.responses).map(([status, answer]) => [
      status,
      answer instanceof z.ZodType
        ? {
            description: answer.description ?? STATUS_CODES[Number(status)] ?? 'OK',
            content: { 'application/json': { schema: answer } },
          }
        : answer,
    ]),
  );
  return {
    summary: docs.summary,
    ...(docs.operationId ? { operationId: docs.operationId } : {}),
    ...(docs.description ? { description: docs.description } : {}),
    ...(docs.tags ? { tags: docs.tags } : {}),
    ...(docs.security ? { security: [{ [schemeName(docs.security)]: [] }] } : {}),
    ...(docs.params ? { params: docs.params } : {}),
    ...(docs.querystring ? { querystring: docs.querystring } : {}),
    ...(docs.body ? { body: docs.body } : {}),
    ...(docs.headers ? { headers: docs.headers } : {}),
    response: { ...responses, ...errors },
  } as FastifySchema;
}

/** Error answers several routes share, in the same words. */
export const COMMON_ERRORS = {
  badParameter: [badFields('the query or path')],
  badParameterOrCursor: [badFields('the query or path'), badCursor('cursor')],
  badMemberOrAsOf: [
    badField('id', 'is not a member id'),
    badField('asOf', 'is in the future or not ISO-8601'),
  ],
} as const;

export interface ApiDocsOptions {
  title: string;
  description: string;
  /** Schemas shown once under `components.schemas` by these names, and referenced where used. */
  schemas?: Record<string, z.ZodType>;
}

/** The roles an `access.require(...)` hook admits, tagged on it (see auth.ts). */
function rolesOf(route: RouteOptions): Role[] | undefined {
  const hooks = [route.onRequest].flat().filter(Boolean) as unknown as { roles?: Role[] }[];
  return hooks.find((hook) => hook.roles)?.roles;
}

/**
 * Adds a keyed route's security requirement and its 401 / 403 answers: a route guarded by
 * `access.require(role)` is documented as taking that key without saying so twice.
 */
function addSecurity(route: RouteOptions): void {
  const roles = rolesOf(route);
  const schema = route.schema as (FastifySchema & { security?: unknown }) | undefined;
  if (!roles || !schema?.response || schema.security) return;
  schema.security = roles.map((role) => ({ [schemeName(role)]: [] }));
  const response = schema.response as Record<string, unknown>;
  for (const [status, meaning] of Object.entries(errorMeanings(KEY_ERRORS))) {
    response[status] ??= errorAnswer(meaning);
  }
}

const allSchemes = () =>
  Object.fromEntries(
    Object.entries(SECURITY_SCHEMES).map(([role, scheme]) => [schemeName(role as Role), scheme]),
  );

/** Drops the components no operation refers to (the converter makes an input and an output one of each). */
function referencedSchemas(document: OpenAPIV3_1.Document): Record<string, unknown> {
  const all = { ...(document.components?.schemas ?? {}) } as Record<string, unknown>;
  const text = (value: unknown) => JSON.stringify(value);
  const used = new Set<string>();
  let pending = [text(document.paths)];
  while (pending.length > 0) {
    const found = pending.flatMap((t) =>
      [...t.matchAll(/#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1] as string),
    );
    const fresh = found.filter((name) => !used.has(name));
    for (const name of fresh) used.add(name);
    pending = fresh.map((name) => text(all[name]));
  }
  return Object.fromEntries(Object.entries(all).filter(([name]) => used.has(name)));
}

/**
 * Names a component the converter made for requests only (`BatchInput`) by its own name (`Batch`)
 * when no answer uses that name.
 */
function plainNames(document: OpenAPIV3_1.Document): OpenAPIV3_1.Document {
  const names = Object.keys(document.components?.schemas ?? {});
  let text = JSON.stringify(document);
  for (const name of names) {
    const plain = name.replace(/Input$/, '');
    if (plain === name || names.includes(plain)) continue;
    text = text.replaceAll(`"#/components/schemas/${name}"`, `"#/components/schemas/${plain}"`);
    text = text.replace(`"${name}":{`, `"${plain}":{`);
  }
  return JSON.parse(text) as OpenAPIV3_1.Document;
}

/** Keeps the security schemes that some operation uses. */
function usedSchemes(document: OpenAPIV3_1.Document): Record<string, OpenAPIV3_1.SecuritySchemeObject> {
  const used = new Set(
    Object.values(document.paths ?? {}).flatMap((item) =>
      Object.values(item ?? {}).flatMap((operation) =>
        ((operation as OpenAPIV3_1.OperationObject).security ?? []).flatMap((entry) => Object.keys(entry)),
      ),
    ),
  );
  return Object.fromEntries(Object.entries(allSchemes()).filter(([name]) => used.has(name)));
}

/**
 * Serves the app's OpenAPI 3.1 document at `GET /openapi.json` and an interactive page at `/docs`,
 * neither behind a key. The document is generated from the `schema` of every route (`documented`):
 * its zod schemas become JSON Schema 2020-12. Must be registered before the routes. Validation stays
 * in the handlers (the validator compiler passes values through), and answers are serialised with
 * plain JSON.stringify, so a schema never strips or rewrites what a handler sends.
 */
export function registerApiDocs(app: FastifyInstance, options: ApiDocsOptions): void {
  // One registry per app: two apps in one process (tests) may name different schemas alike.
  const schemaRegistry = z.registry<{ id: string }>();
  schemaRegistry.add(errorBodySchema, { id: 'Error' });
  for (const [id, schema] of Object.entries(options.schemas ?? {})) schemaRegistry.add(schema, { id });
  app.setValidatorCompiler(() => (value) => ({ value }));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.addHook('onRoute', addSecurity);
  // Called, not registered: a registered plugin loads only when the app starts, after the services
  // have declared their routes, and this one collects routes in an onRoute hook. Its dynamic mode
  // adds that hook and the `swagger` decorator synchronously.
  const swaggerOptions: SwaggerOptions = {
    openapi: {
      openapi: '3.1.0',
      info: { title: options.title, description: options.description, version: '1' },
      components: { securitySchemes: allSchemes() },
    },
    transform: createJsonSchemaTransform({ skipList: ['/openapi.json'], schemaRegistry }),
    transformObject: (input) => {
      const document = createJsonSchemaTransformObject({ schemaRegistry })(input) as OpenAPIV3_1.Document;
      const components = {
        ...document.components,
        schemas: referencedSchemas(document),
        securitySchemes: usedSchemes(document),
      };
      return plainNames({ ...document, components } as OpenAPIV3_1.Document);
    },
  };
  fastifySwagger(app, swaggerOptions, (error?: Error) => {
    if (error) throw error;
  });
  // Called inside a plugin of its own, as fastify-swagger is not registered under its name: the page
  // only needs `app.swagger`. Its implementation is an async plugin (the types say callback style).
  const swaggerUi = fastifySwaggerUi as unknown as (
    instance: FastifyInstance,
    options: FastifySwaggerUiOptions,
  ) => Promise<void>;
  app.register(async (instance) => swaggerUi(instance, { routePrefix: '/docs' }));
  app.after(() => {
    app.get('/openapi.json', { schema: { hide: true } as FastifySchema }, async () => app.swagger());
  });
}
