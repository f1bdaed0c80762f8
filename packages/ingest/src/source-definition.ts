import type { Category, Channel, ConsumptionEvent, Source } from '@taobi/contracts';
import type { FieldError } from '@taobi/platform';
import type { z } from 'zod';

/** An ingest event after validation: the common fields, typed, plus the source's own fields. */
export type IngestEvent = {
  type: 'order.completed' | 'order.refunded';
  orderId: string;
  refundId?: string;
  memberId: string;
  amount: number;
  currency: 'CNY';
  channel?: Channel;
  category?: Category;
  merchantId?: string;
  occurredAt: string;
} & Record<string, unknown>;

/** What a source's own fields may set on the canonical event. */
export type CanonicalOverrides = Partial<Pick<ConsumptionEvent, 'merchantId'>>;

/**
 * Everything that makes one business line's ingest service different from the others. The
 * channels and categories it accepts are those of its source in `SOURCE_CATALOGUE`
 * (packages/contracts), so the canonical contract and the ingest API cannot drift apart.
 */
export interface IngestSourceDefinition {
  source: Source;
  /** Who posts here, for the OpenAPI description, e.g. "Ele.me orders and refunds". */
  title: string;
  /**
   * Values a completed order may leave out because the source has only one choice (the
   * mobility app knows one channel and one category). Without a default the field is required.
   */
  defaults?: { channel?: Channel; category?: Category };
  /** Fields only this source sends; validated (and documented) like the common ones. */
  extraFields?: Record<string, z.ZodType>;
  /** Checks across the source's own fields (e.g. two fields that must not disagree). */
  checkExtraFields?: (event: IngestEvent) => FieldError[];
  /** Maps the source's own fields onto the canonical event. */
  mapExtraFields?: (event: IngestEvent) => CanonicalOverrides;
  /** A completed order and a refund as this source's platform would send them (OpenAPI, README). */
  examples: { completed: Record<string, unknown>; refunded: Record<string, unknown> };
}

/** Identity function that gives a definition its type (and a place to grow validation). */
export function defineIngestSource(definition: IngestSourceDefinition): IngestSourceDefinition {
  return definition;
}

/** The service name of a source's ingest service: `ingest-<source>`. */
export function ingestServiceName(definition: IngestSourceDefinition): string {
  return `ingest-${definition.source}`;
}
