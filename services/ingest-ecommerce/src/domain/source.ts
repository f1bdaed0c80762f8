import { defineIngestSource } from '@taobi/ingest';

/**
 * Taobao, Tmall and Taobao flash-sale orders: physical or virtual goods. No field of its own:
 * `merchantId` is the shop.
 */
export const ecommerceSource = defineIngestSource({
  source: 'ecommerce',
  title: 'Taobao / Tmall / flash-sale orders and refunds',
  examples: {
    completed: {
      type: 'order.completed',
      orderId: 'tb-20261120-0001',
      memberId: 'm-10001',
      amount: 12800,
      currency: 'CNY',
      channel: 'tmall',
      category: 'physical',
      merchantId: 'shop-77',
      occurredAt: '2026-11-20T10:00:00+08:00',
    },
    refunded: {
      type: 'order.refunded',
      orderId: 'tb-20261120-0001',
      refundId: 'rf-1',
      memberId: 'm-10001',
      amount: 5000,
      currency: 'CNY',
      occurredAt: '2026-11-21T09:00:00+08:00',
    },
  },
});
