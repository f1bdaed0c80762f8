import { z } from 'zod';
import { envelopeSchema, externalIdSchema, isoTimeSchema, uuidV5 } from './common';
import {
  type Category,
  type Channel,
  categorySchema,
  channelSchema,
  SOURCE_CATALOGUE,
  type Source,
  sourceSchema,
} from './sources';

/** 10,000,000 CNY in fen: no single order or refund is larger than this. */
export const MAX_AMOUNT_FEN = 1_000_000_000;

const consumptionBase = envelopeSchema.extend({
  source: sourceSchema,
  orderId: externalIdSchema,
  /** Integer minor units (fen). */
  amount: z.number().int().positive().max(MAX_AMOUNT_FEN),
  currency: z.literal('CNY'),
  merchantId: externalIdSchema.optional(),
  receivedAt: isoTimeSchema,
});

export const orderCompletedSchema = consumptionBase.extend({
  kind: z.literal('completed'),
  channel: channelSchema,
  category: categorySchema,
});

/** A refund names its order; channel and category are those of the order and may be omitted. */
export const orderRefundedSchema = consumptionBase.extend({
  kind: z.literal('refunded'),
  refundId: externalIdSchema,
  channel: channelSchema.optional(),
  category: categorySchema.optional(),
});

export const consumptionEventSchema = z
  .discriminatedUnion('kind', [orderCompletedSchema, orderRefundedSchema])
  .superRefine((event, ctx) => {
    const allowed = SOURCE_CATALOGUE[event.source];
    if (event.channel && !(allowed.channels as readonly string[]).includes(event.channel)) {
      ctx.addIssue({ code: 'custom', path: ['channel'], message: `not a ${event.source} channel` });
    }
    if (event.category && !(allowed.categories as readonly string[]).includes(event.category)) {
      ctx.addIssue({ code: 'custom', path: ['category'], message: `not a ${event.source} category` });
    }
  });

export type OrderCompleted = z.infer<typeof orderCompletedSchema>;
export type OrderRefunded = z.infer<typeof orderRefundedSchema>;
export type ConsumptionEvent = z.infer<typeof consumptionEventSchema>;
export type ConsumptionKind = ConsumptionEvent['kind'];
export type { Category, Channel, Source };

/** A fixed UUID namespace for Taobi consumption event ids (RFC 4122 name-based, SHA-1). */
const CONSUMPTION_NAMESPACE = Buffer.from('6f1c2b0e4d5a4c3b9a8e7d6c5b4a3f21', 'hex');

/**
 * The deterministic event id: a version-5 UUID of (source, kind, external id), where the external
 * id is the orderId of a completed order and the refundId of a refund. The same order posted twice
 * gets the same id, so a platform's retry is harmless downstream.
 */
export function consumptionEventId(source: Source, kind: ConsumptionKind, externalId: string): string {
  return uuidV5(CONSUMPTION_NAMESPACE, [source, kind, externalId]);
}
