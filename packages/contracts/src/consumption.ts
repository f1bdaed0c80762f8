import { z } from 'zod';
import { envelopeSchema, externalIdSchema, isoTimeSchema, uuidV5 } from './common';
import {
  type Category,
  type Channel,
  categorySchema,
  channelSchema,
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

/**
 * One consumption event. Whether its channel and category belong to its source is the rule set's
 * to say (sources are data): the ingest service of the source accepts only its own, and scoring
 * dead-letters what the rule set in force does not know (`sourceFieldsProblem` in @taobi/rules).
 */
export const consumptionEventSchema = z.discriminatedUnion('kind', [
  orderCompletedSchema,
  orderRefundedSchema,
]);

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
