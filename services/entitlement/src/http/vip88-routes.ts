import { planVip88Grants, vip88Quote, vip88TermEnd } from '@taobi/benefits';
import { enqueueOutbox, routeDocs, withTransaction } from '@taobi/platform';
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
import { checkoutCall, checkoutDocs, memberIdOf, memberPathSchema, type RouteContext } from './context';

const tags = ['88VIP'];
const DOCS = {
  read: routeDocs(tags)('The 88VIP price the member qualifies for now, and any term', vip88Schema, {
    params: memberPathSchema,
    errors: { 400: 'VALIDATION_FAILED naming `id`.' },
  }),
  activate: checkoutDocs({
    summary: 'Activate a 12-month 88VIP term at the price the member qualifies for now',
    tags,
    created: activationSchema,
    noun: 'activation',
    conflicts: 'VIP88_ALREADY_ACTIVE naming the term the member holds.',
  }),
};

export function registerVip88Routes(app: FastifyInstance, ctx: RouteContext): void {
  /** The price the member qualifies for now (8800 fen from Platinum up, else 88800) and any term. */
  app.get(
    '/v1/members/:id/vip88',
    { onRequest: ctx.access.require('read'), schema: DOCS.read },
    async (request) => {
      const memberId = memberIdOf(request);
      const now = ctx.now();
      const [member, active] = await Promise.all([
        readMember(ctx.pool, memberId),
        activeActivation(ctx.pool, memberId, now),
      ]);
      const bundle = active ? await grantsOfTerm(ctx.pool, active.id) : [];
      return {
        ...vip88View(ctx.catalogue, memberId, member.tier, active),
        bundle: bundle.map((row) => entitlementView(ctx.catalogue, row, now)),
      };
    },
  );

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
  app.post(
    '/v1/members/:id/vip88/activations',
    { onRequest: ctx.access.require('checkout'), schema: DOCS.activate },
    async (request, reply) => {
      const memberId = memberIdOf(request);
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
  );
}
