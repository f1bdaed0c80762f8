import { defineIngestSource } from '@taobi/ingest';

/**
 * Fliggy: flights, hotels, trains and tickets, posted once the trip is completed (a booking that
 * is later cancelled is a refund). `merchantId` is the airline, hotel or operator.
 */
export const travelSource = defineIngestSource({
  source: 'travel',
  title: 'Fliggy flights, hotels, trains and tickets: completed trips and refunds',
  examples: {
    completed: {
      type: 'order.completed',
      orderId: 'fz-7781-2026',
      memberId: 'm-10001',
      amount: 98000,
      currency: 'CNY',
      channel: 'fliggy',
      category: 'hotel',
      merchantId: 'hotel-marriott-sh-01',
      occurredAt: '2026-11-18T12:00:00+08:00',
    },
    refunded: {
      type: 'order.refunded',
      orderId: 'fz-7781-2026',
      refundId: 'fz-rf-7781-1',
      memberId: 'm-10001',
      amount: 20000,
      currency: 'CNY',
      occurredAt: '2026-11-19T08:30:00+08:00',
    },
  },
});
