import { defineIngestSource } from '@taobi/ingest';

/**
 * Completed rides. The ride-hailing app has one channel and one category, so it may leave both
 * out: they default to `ride-hailing` and `ride`.
 */
export const mobilitySource = defineIngestSource({
  source: 'mobility',
  title: 'Completed rides and their refunds',
  defaults: { channel: 'ride-hailing', category: 'ride' },
  examples: {
    completed: {
      type: 'order.completed',
      orderId: 'ride-5f3a91',
      memberId: 'm-10001',
      amount: 2340,
      currency: 'CNY',
      occurredAt: '2026-11-20T08:47:00+08:00',
    },
    refunded: {
      type: 'order.refunded',
      orderId: 'ride-5f3a91',
      refundId: 'ride-rf-5f3a91',
      memberId: 'm-10001',
      amount: 340,
      currency: 'CNY',
      occurredAt: '2026-11-20T09:30:00+08:00',
    },
  },
});
