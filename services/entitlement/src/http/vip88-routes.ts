import { planVip88Grants, vip88Quote, vip88TermEnd } from '@taobi/benefits';
import { badField, enqueueOutbox, withTransaction } from '@taobi/platform';
import type { FastifyInstance } from 'fastify';
import { entitlementView, grantRecord } from '../domain/grants';
import { activatedRecord, activationView, vip88View } from '../domain/vip88';
import { EntitlementErrors } from '../errors';
import { closeTerms } from '../jobs/vip88-term-end';
import { grantsOfTerm, insertGrants } from '../store/grants';
import { lockMember, readMember } from '../store/members';
import {
  activeActivation,
  findActivationByKey,
  insertActivation,
  overlappingActivation,
} from '../store/vip88';
import { activationSchema, vip88Schema } from './api-schemas';
import {
  checkoutCall,
  checkoutDocs,
  entitlementRoutes,
  memberPathSchema,
  type RouteContext,
} from './context';

export function registerVip88Routes(app: FastifyInstance, ctx: RouteContext): void {
  const routes = entitlementRoutes(app, ['88VIP']);

  /** The price the member qualifies for now (8800 fen from Platinum up, else 88800) and any term. */
  routes.get('/v1/members/:id/vip88', vip88Schema, {
    summary: 'The 88VIP price the member qualifies for now, and any term',
    onRequest: ctx.access.require('read'),
    request: { params: memberPathSchema },
    errors: [badField('id', 'is not a member id')],
    async handler({ params }) {
      const now = ctx.now();
      const [member, active] = await Promise.all([
        readMember(ctx.pool, params.id),
        activeActivation(ctx.pool, params.id, now),
      ]);
      const bundle = active ? await grantsOfTerm(ctx.pool, active.id) : [];
      return {
        ...vip88View(ctx.catalogue, params.id, member.tier, active),
        bundle: bundle.map((row) => entitlementView(ctx.catalogue, row, now)),
      };
    },
  });

  /**
   * Activates a 12-month term at the price the member qualifies for now, charged once: the same
   * Idempotency-Key returns the same activation (201 the first time, 200 after, same body). A member
   * never holds two overlapping terms: Postgres refuses the second (an exclusion constraint), and
   * the caller gets 409 VIP88_ALREADY_ACTIVE naming the term it holds, whatever the concurrency and
   * whatever this instance's clock says. The member row is locked so same-key retries and the price
   * are decided once; the clock is read under that lock. The price is locked for the term: a later
   * downgrade only changes what the *next* activation costs. The term's 88VIP bundle is granted in the
   * same transaction (status benefits for the term, this period's coupons); a term of the member that
   * has ended is closed first, so a renewal never collides with the old term's grants.
   */
  routes.post('/v1/members/:id/vip88/activations', activationSchema, {
    summary: 'Activate a 12-month 88VIP term at the price the member qualifies for now',
    onRequest: ctx.access.require('checkout'),
    ...checkoutDocs({
      params: memberPathSchema,
      created: activationSchema,
      noun: 'activation',
      errors: [EntitlementErrors.vip88AlreadyActive.doc('the member holds a term; the answer names it')],
    }),
    async handler({ params }, request, reply) {
      const memberId = params.id;
      const idempotencyKey = checkoutCall(request);
      const { row, created } = await withTransaction(ctx.pool, async (client) => {
        const member = await lockMember(client, memberId);
        const existing = await findActivationByKey(client, memberId, idempotencyKey);
        if (existing) return { row: existing, created: false };
        const now = ctx.now();
        const ended = await closeTerms(client, ctx.catalogue, now, { memberId, limit: 100 });
        const expiresAt = vip88TermEnd(ctx.catalogue.vip88, now);
        const quote = vip88Quote(ctx.catalogue.vip88, member.tier);
        const inserted = await insertActivation(client, {
          memberId,
          idempotencyKey,
          tier: member.tier,
          priceFen: quote.price.amount,
          currency: quote.price.currency,
          startsAt: now,
          expiresAt,
          catalogueVersion: ctx.catalogue.version,
        });
        if (!inserted) {
          const held = await overlappingActivation(client, memberId, now, expiresAt);
          // The term it collided with cannot vanish: terms are never deleted by the service.
          if (!held) throw new Error(`88VIP insert for ${memberId} refused but no overlapping term found`);
          throw EntitlementErrors.vip88AlreadyActive(activationView(held));
        }
        const bundle = await insertGrants(
          client,
          planVip88Grants(ctx.catalogue, { activationId: inserted.id, startsAt: now, expiresAt }, now).map(
            (grant) => ({
              ...grant,
              memberId,
              tier: member.tier,
              catalogueVersion: ctx.catalogue.version,
              cause: 'vip88-activation' as const,
              causeId: inserted.id,
              details: {},
              grantedAt: now,
              vip88ActivationId: inserted.id,
            }),
          ),
        );
        await enqueueOutbox(client, 'entitlement', [
          ...ended.records,
          activatedRecord(inserted, ctx.catalogue.vip88.benefitId),
          ...bundle.map((row) => grantRecord(ctx.catalogue, row, 'granted', member.tier, now)),
        ]);
        for (const kind of ended.kinds) ctx.entitlements.labels('revoked', kind).inc();
        for (const row of bundle) ctx.entitlements.labels('granted', row.kind).inc();
        return { row: inserted, created: true };
      });
      if (created) {
        ctx.wake();
        request.log.info(
          {
            memberId,
            activationId: row.id,
            priceFen: row.price_fen,
            expiresAt: row.expires_at.toISOString(),
          },
          '88VIP activated',
        );
      }
      return reply.status(created ? 201 : 200).send(activationView(row));
    },
  });
}
