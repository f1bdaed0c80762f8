import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { z } from 'zod';
import { API_ROUTE_ERRORS, documented, type ResponseObject, type RouteDocs } from './api-docs';
import { parseOr400 } from './request';

/** The parts of a request a route declares, and its handler gets parsed. */
type Part = 'params' | 'query' | 'body';

/** Where the bad fields of each part are reported: `{ query: ['query'] }` names `query.limit`. */
export type FieldPrefixes = Partial<Record<Part, ReadonlyArray<PropertyKey>>>;

type Schema = z.ZodType | undefined;
type Parsed<S> = S extends z.ZodType ? z.infer<S> : undefined;

/** A route's request: the schema of each part it takes (a part not given is not read). */
export interface RouteRequest<P extends Schema, Q extends Schema, B extends Schema> {
  params?: P;
  query?: Q;
  body?: B;
}

/** What a route's handler gets: each part of the request, parsed with the schema the route declares. */
export interface RouteInput<P, Q, B> {
  params: Parsed<P>;
  query: Parsed<Q>;
  body: Parsed<B>;
}

/** What every route declares besides its request and handler. */
interface RouteBase
  extends Omit<RouteDocs, 'tags' | 'responses' | 'params' | 'querystring' | 'body' | 'keyed'> {
  /** The status of the route's answer (default 200). */
  status?: number;
  /** Other success answers, by status (the same Idempotency-Key again: 200). */
  responses?: RouteDocs['responses'];
  /** The key the route takes, when not the table's. */
  onRequest?: onRequestHookHandler;
}

/**
 * One route besides its method, path and answer: its OpenAPI entry and its handler. The request's
 * schemas are both documented and parsed before the handler runs (params, then query, then body;
 * the first bad part is a 400 naming its fields), so what a route documents is what it accepts.
 * Headers are documented only: the route checks them, with errors of its own.
 */
export interface RouteDeclaration<P extends Schema, Q extends Schema, B extends Schema> extends RouteBase {
  request?: RouteRequest<P, Q, B>;
  /** Where this route's bad fields are reported, when not as the table says. */
  fieldPrefix?: FieldPrefixes;
  checkedByHandler?: never;
  handler(input: RouteInput<P, Q, B>, request: FastifyRequest, reply: FastifyReply): Promise<unknown>;
}

/**
 * A route whose handler checks the request itself (an order or wording of its own): the request's
 * schemas are documented only, and the handler gets the raw request, nothing parsed.
 */
export interface HandlerCheckedRoute extends RouteBase {
  request?: RouteRequest<Schema, Schema, Schema>;
  fieldPrefix?: never;
  checkedByHandler: true;
  handler(request: FastifyRequest, reply: FastifyReply): Promise<unknown>;
}

export interface RouteTableOptions {
  /** The OpenAPI tags of every route of the table. */
  tags: string[];
  /** The key every route takes (`access.require(role)`), unless a route names its own. */
  onRequest?: onRequestHookHandler;
  /** Where bad fields are reported (default: by their own names). */
  fieldPrefix?: FieldPrefixes;
}

/** Declares one route of a table: its path, its answer, and the route (parsed for, or checked by its handler). */
export interface Declare {
  <P extends Schema = undefined, Q extends Schema = undefined, B extends Schema = undefined>(
    url: string,
    /** The success answer: a zod schema of the JSON body, or a response object. */
    answer: z.ZodType | ResponseObject,
    route: RouteDeclaration<P, Q, B>,
  ): void;
  (url: string, answer: z.ZodType | ResponseObject, route: HandlerCheckedRoute): void;
}

/**
 * A module's routes declared as a table: each route's answer, summary, request schemas, key and
 * handler in one place. The OpenAPI entry is built from the declaration (`documented`) and the
 * request parsed with the same schemas before the handler runs:
 * `const routes = routeTable(app, { tags: ['scores'], onRequest: access.require('read') });
 * routes.get('/v1/members/:id/score', scoreSchema, { summary, request: { params }, handler })`.
 */
export function routeTable(
  app: FastifyInstance,
  table: RouteTableOptions,
): Record<'get' | 'post' | 'delete', Declare> {
  const declare =
    (method: 'GET' | 'POST' | 'DELETE'): Declare =>
    (
      url: string,
      answer: z.ZodType | ResponseObject,
      route: RouteDeclaration<Schema, Schema, Schema> | HandlerCheckedRoute,
    ) => {
      const {
        request = {},
        status = 200,
        responses,
        onRequest,
        errors = [],
        fieldPrefix,
        checkedByHandler,
        handler,
        ...docs
      } = route;
      const guard = onRequest ?? table.onRequest;
      app.route({
        method,
        url,
        onRequest: guard,
        schema: documented({
          ...docs,
          params: request.params,
          querystring: request.query,
          body: request.body,
          tags: table.tags,
          keyed: guard !== undefined,
          responses: { [status]: answer, ...responses },
          errors: [...errors, ...API_ROUTE_ERRORS],
        }),
        handler: checkedByHandler
          ? handler
          : parsing(request, handler, { ...table.fieldPrefix, ...fieldPrefix }),
      });
    };
  return { get: declare('GET'), post: declare('POST'), delete: declare('DELETE') };
}

/** The handler of a route the table parses for: each part of the request parsed, then the route's. */
function parsing(
  parts: RouteRequest<Schema, Schema, Schema>,
  handler: RouteDeclaration<Schema, Schema, Schema>['handler'],
  prefixes: FieldPrefixes,
): (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
  const parse = (part: Part, value: unknown) => {
    const schema = parts[part];
    return schema ? parseOr400(schema, value, prefixes[part]) : undefined;
  };
  return async (request, reply) => {
    const input = {
      params: parse('params', request.params),
      query: parse('query', request.query),
      body: parse('body', request.body ?? {}),
    } as RouteInput<never, never, never>;
    return handler(input, request, reply);
  };
}
