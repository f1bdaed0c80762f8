import { externalIdSchema } from '@taobi/contracts';
import { defineIngestSource } from '@taobi/ingest';

/**
 * Ele.me (and its flash-sale) orders: meals and groceries. Ele.me names the seller a *store*, so
 * it may send `storeId`, which becomes the canonical `merchantId`; sending both with different
 * values is a 400 (which one would be right?).
 */
export const foodSource = defineIngestSource({
  source: 'food',
  title: 'Ele.me orders and refunds',
  extraFields: {
    storeId: externalIdSchema
      .describe('The Ele.me store; becomes the canonical merchantId. Alternative to merchantId.')
      .optional(),
  },
  checkExtraFields: (event) =>
    typeof event.storeId === 'string' && event.merchantId !== undefined && event.merchantId !== event.storeId
      ? [{ field: 'storeId', message: 'differs from merchantId: send one of them' }]
      : [],
  mapExtraFields: (event) => (typeof event.storeId === 'string' ? { merchantId: event.storeId } : {}),
  examples: {
    completed: {
      type: 'order.completed',
      orderId: 'ele-20261120-8812',
      memberId: 'm-10001',
      amount: 3650,
      currency: 'CNY',
      channel: 'eleme',
      category: 'meal',
      storeId: 'store-1024',
      occurredAt: '2026-11-20T12:05:00+08:00',
    },
    refunded: {
      type: 'order.refunded',
      orderId: 'ele-20261120-8812',
      refundId: 'ele-rf-31',
      memberId: 'm-10001',
      amount: 1200,
      currency: 'CNY',
      occurredAt: '2026-11-20T12:40:00+08:00',
    },
  },
});
