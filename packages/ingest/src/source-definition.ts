import type { Category, Channel, ConsumptionEvent, Source } from '@taobi/contracts';
import type { FieldError } from '@taobi/platform';
import { type RuleSet, sourceRules } from '@taobi/rules';
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
 * Everything that makes one business line's ingest service different from the others, besides
 * data. The channels and categories it accepts are those of its source in the rule set in force
 * (`sourceCatalogue`), the same data scoring checks and scores by, so the two cannot drift apart.
 */
export interface IngestSourceDefinition {
  source: Source;
  /** Who posts here, for the OpenAPI description, e.g. "Ele.me orders and refunds". */
  title: string;
  /**
   * Values a completed order may leave out because the source has only one choice (the
   * ride-hailing app knows one channel and one category). Without a default the field is required.
   */
  defaults?: { channel?: Channel; category?: Category };
  /**
   * Fields only this source sends; validated (and documented) like the common ones. A good event is
   * recognised by a check compiled from their JSON Schema (`parseEvent`), which holds no
   * `.refine()` or `.transform()`: a check across or beyond the JSON Schema goes in `checkExtraFields`.
   */
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

/** What a source may report: its channels and categories in the rule set in force. */
export interface SourceCatalogue {
  channels: readonly Channel[];
  categories: readonly Category[];
}

/**
 * The catalogue of a definition's source in `rules`. Throws (a RangeError naming the problem) when
 * the rule set has no such source, or a default of the definition is not among its channels or
 * categories: the service cannot be built for it.
 */
export function sourceCatalogue(definition: IngestSourceDefinition, rules: RuleSet): SourceCatalogue {
  if (!Object.hasOwn(rules.score.sources, definition.source)) {
    throw new RangeError(`rule set ${rules.version} has no source ${definition.source}`);
  }
  const entry = sourceRules(rules.score, definition.source);
  const catalogue = { channels: entry.channels, categories: Object.keys(entry.categories) };
  const { channel, category } = definition.defaults ?? {};
  if (channel !== undefined && !catalogue.channels.includes(channel)) {
    throw new RangeError(`the default channel ${channel} is not a ${definition.source} channel`);
  }
  if (category !== undefined && !catalogue.categories.includes(category)) {
    throw new RangeError(`the default category ${category} is not a ${definition.source} category`);
  }
  return catalogue;
}
