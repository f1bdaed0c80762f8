/**
 * Source definitions for the package's own unit tests (the real ones live in services/ingest-*,
 * which a package must not import). Not exported from the package.
 */
import { externalIdSchema } from '@taobi/contracts';
import { DEFAULT_RULE_SET } from '@taobi/rules';
import { defineIngestSource, type IngestSourceDefinition, sourceCatalogue } from '../src/source-definition';

const completed = {
  type: 'order.completed',
  orderId: 'tb-1',
  memberId: 'm-1',
  amount: 12800,
  currency: 'CNY',
  channel: 'tmall',
  category: 'physical',
  merchantId: 'shop-77',
  occurredAt: '2026-11-20T10:00:00+08:00',
};
const refunded = {
  type: 'order.refunded',
  orderId: 'tb-1',
  refundId: 'rf-1',
  memberId: 'm-1',
  amount: 5000,
  currency: 'CNY',
  occurredAt: '2026-11-21T09:00:00+08:00',
};

export const shopDefinition = defineIngestSource({
  source: 'ecommerce',
  title: 'test e-commerce',
  examples: { completed, refunded },
});

/** One channel and one category: both may be left out. */
export const rideDefinition = defineIngestSource({
  source: 'mobility',
  title: 'test rides',
  defaults: { channel: 'ride-hailing', category: 'ride' },
  examples: { completed: { ...completed, channel: undefined, category: undefined }, refunded },
});

/** A field of its own (`storeId`) mapped onto the canonical merchantId. */
export const storeDefinition = defineIngestSource({
  source: 'food',
  title: 'test food',
  extraFields: { storeId: externalIdSchema.optional() },
  checkExtraFields: (event) =>
    event.storeId !== undefined && event.merchantId !== undefined && event.storeId !== event.merchantId
      ? [{ field: 'storeId', message: 'differs from merchantId' }]
      : [],
  mapExtraFields: (event) => (typeof event.storeId === 'string' ? { merchantId: event.storeId } : {}),
  examples: { completed: { ...completed, channel: 'eleme', category: 'meal' }, refunded },
});

export const COMPLETED = completed;
export const REFUNDED = refunded;

/** A test definition's channels and categories in the shipped rule set. */
export const catalogueOf = (definition: IngestSourceDefinition) =>
  sourceCatalogue(definition, DEFAULT_RULE_SET);
