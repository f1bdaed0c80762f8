import type { Catalogue } from '@taobi/benefits';
import { memberIdSchema } from '@taobi/contracts';
import {
  type AccessControl,
  badFields,
  type Counter,
  type ErrorDoc,
  type Pool,
  parseOr400,
  routeTable,
} from '@taobi/platform';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import { z } from 'zod';
import { EntitlementErrors } from '../errors';
import type { Lottery } from '../jobs/lottery';
import type { PeriodicIssuer } from '../jobs/periodic-issue';
import type { Vip88TermEnder } from '../jobs/vip88-term-end';

/** What every route module needs; built once in app.ts. */
export interface RouteContext {
  pool: Pool;
  catalogue: Catalogue;
  /** The rule set's product categories (every source's): what an offer's audience may name. */
  categories: readonly string[];
  now: () => Date;
  /** Which keys may call a route: `onRequest: ctx.access.require('read')`. */
  access: AccessControl;
  /** Publishes freshly enqueued outbox records now rather than at the relay's next poll. */
  wake: () => void;
  lottery: Lottery;
  issuer: PeriodicIssuer;
  termEnder: Vip88TermEnder;
  entitlements: Counter<'action' | 'kind'>;
}

export const memberParamsSchema = z.object({ id: memberIdSchema });

/**
 * The member id of a `/v1/members/:id/...` route, reported as the field `id` (the route's parameter,
 * as scoring and tier name it) when invalid.
 */
export function memberIdOf(request: FastifyRequest): string {
  const params = request.params as { id?: unknown };
  return parseOr400(memberIdSchema, params.id, ['id']);
}

/** An Idempotency-Key header value: the same characters as the external ids, up to 128. */
export const idempotencyKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be 1 to 128 characters of A-Z a-z 0-9 _ . : -');

/** The `:id` of `/v1/members/:id/...` routes: documented and parsed, or checked by `memberIdOf`. */
export const memberPathSchema = z.object({ id: memberIdSchema.describe('The member id') });

/** The header of a checkout call, as documented (checked by `checkoutCall`). */
const idempotencyHeadersSchema = z.object({
  'idempotency-key': idempotencyKeySchema.describe('The same key again answers the first result.'),
});

/** The errors of every checkout call. */
const CHECKOUT_ERRORS = [
  badFields('the path (the member id first, as `id`) or a body, which must be empty'),
  EntitlementErrors.idempotencyKeyRequired.doc('the header is missing or malformed; the answer names it'),
];

/**
 * The OpenAPI entry of a checkout call (88VIP activation, offer redemption) besides its summary: its
 * path, the Idempotency-Key header, 201 with what the call `created` (the route's answer) and 200
 * with the same for the same key again, the checkout errors and the call's own.
 */
export function checkoutDocs<P extends z.ZodObject>(docs: {
  /** The route's path: the member's, with what else it names. */
  params: P;
  created: z.ZodType;
  /** What the call creates, in the 200's words: "the same <noun>". */
  noun: string;
  /** What the call refuses besides bad input (`EntitlementErrors.x.doc(when)`). */
  errors: ErrorDoc[];
}) {
  return {
    request: { params: docs.params },
    headers: idempotencyHeadersSchema,
    status: 201,
    responses: { 200: docs.created.describe(`The same Idempotency-Key again: the same ${docs.noun}.`) },
    errors: [...CHECKOUT_ERRORS, ...docs.errors],
  };
}

/**
 * A module's routes (`routeTable`): a bad query field is named `query.<field>`, a bad path or body
 * field by its own name (the member id is `id`, as scoring and tier name it).
 */
export function entitlementRoutes(app: FastifyInstance, tags: string[], onRequest?: onRequestHookHandler) {
  return routeTable(app, { tags, onRequest, fieldPrefix: { query: ['query'] } });
}

/** A POST that takes no fields: no body, or an empty JSON object. */
export const emptyBodySchema = z.union([z.undefined(), z.null(), z.strictObject({})]);

/**
 * A checkout call (88VIP activation, offer redemption): its required Idempotency-Key (400
 * IDEMPOTENCY_KEY_REQUIRED naming the header otherwise), and no body.
 */
export function checkoutCall(request: FastifyRequest): string {
  const key = idempotencyKeySchema.safeParse(request.headers['idempotency-key']);
  if (!key.success) {
    throw EntitlementErrors.idempotencyKeyRequired([
      { field: 'headers.idempotency-key', message: key.error.issues[0]?.message ?? 'required' },
    ]);
  }
  parseOr400(emptyBodySchema, request.body, ['body']);
  return key.data;
}
