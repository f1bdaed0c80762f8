import {
  badCursor,
  badField,
  badFields,
  Errors,
  enqueueOutbox,
  pageLimit,
  parseCursor,
  parseOr400,
  withTransaction,
} from '@taobi/platform';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { entitlementView, grantRecord } from '../domain/grants';
import { EntitlementErrors } from '../errors';
import { listGrants, lockGrant, markUsed } from '../store/grants';
import { lockMember, readMember } from '../store/members';
import { entitlementListSchema, entitlementSchema } from './api-schemas';
import { entitlementRoutes, memberIdOf, memberPathSchema, type RouteContext } from './context';

const listQuerySchema = z.strictObject({
  status: z.enum(['granted', 'used', 'revoked', 'expired']).optional(),
  limit: pageLimit(1000, 200),
  /** Keyset paging: the `nextBefore` of the previous page (checked as a cursor below). */
  before: z.string().optional(),
});

/** A grant id as `nextBefore` gives it: a positive decimal integer that a bigint and a JS number hold. */
const beforeSchema = z
  .string()
  .regex(/^[1-9][0-9]{0,15}$/)
  .transform(Number)
  .pipe(z.number().max(Number.MAX_SAFE_INTEGER));

const grantParamsSchema = z.object({ entitlementId: z.coerce.number().int().positive() });

export function registerEntitlementRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const routes = entitlementRoutes(app, ['entitlements']);

  /** A member's grants (newest first) with their status: granted, used, revoked or expired. */
  routes.get('/v1/members/:id/entitlements', entitlementListSchema, {
    summary: "A member's grants, newest first, with their status",
    onRequest: ctx.access.require('read'),
    request: { params: memberPathSchema, query: listQuerySchema },
    errors: [badFields('the query or path'), badCursor('before')],
    async handler({ params, query }) {
      const before =
        query.before === undefined ? undefined : parseCursor(beforeSchema, query.before, 'before');
      const now = ctx.now();
      const [member, rows] = await Promise.all([
        readMember(ctx.pool, params.id),
        listGrants(ctx.pool, params.id, { limit: query.limit, before, status: query.status, now }),
      ]);
      return {
        memberId: params.id,
        tier: member.tier,
        tierSince: member.since?.toISOString() ?? null,
        entitlements: rows.map((row) => entitlementView(ctx.catalogue, row, now)),
        nextBefore: rows.length === query.limit ? String(rows.at(-1)?.id) : null,
      };
    },
  });

  /**
   * Marks a grant used (a coupon redeemed, a voucher spent, a partner status claimed at the partner).
   * Using a used grant again answers the same grant (a retried call is harmless); a revoked or
   * expired grant cannot be used (409).
   */
  routes.post('/v1/members/:id/entitlements/:entitlementId/use', entitlementSchema, {
    summary: 'Mark a grant used (again: the same grant)',
    onRequest: ctx.access.require('checkout'),
    request: { params: memberPathSchema.extend(grantParamsSchema.shape) },
    // The member id first, named `id`; then the grant's, named `params.entitlementId`.
    checkedByHandler: true,
    errors: [
      badField('id', 'is not a member id'),
      badField('params.entitlementId', 'is not a grant id'),
      Errors.notFound.doc('the member has no such grant'),
      EntitlementErrors.entitlementNotUsable.doc('the grant is revoked or expired'),
    ],
    async handler(request) {
      const memberId = memberIdOf(request);
      const { entitlementId } = parseOr400(grantParamsSchema, request.params, ['params']);
      const now = ctx.now();
      const row = await withTransaction(ctx.pool, async (client) => {
        const member = await lockMember(client, memberId);
        const grant = await lockGrant(client, memberId, entitlementId);
        if (!grant) throw Errors.notFound(`member ${memberId} has no entitlement ${entitlementId}`);
        if (grant.status === 'used') return grant;
        const status = entitlementView(ctx.catalogue, grant, now).status;
        if (status !== 'granted') throw EntitlementErrors.entitlementNotUsable(status);
        const used = await markUsed(client, grant.id, now);
        await enqueueOutbox(client, 'entitlement', [
          grantRecord(ctx.catalogue, used, 'used', member.tier, now),
        ]);
        ctx.entitlements.labels('used', used.kind).inc();
        return used;
      });
      ctx.wake();
      return entitlementView(ctx.catalogue, row, now);
    },
  });
}
