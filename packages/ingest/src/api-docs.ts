import { type ApiDocsOptions, documented } from '@taobi/platform';
import type { FastifySchema } from 'fastify';
import { z } from 'zod';
import { type IngestSchemas, MAX_BATCH_EVENTS } from './request-schema';
import { type IngestSourceDefinition, ingestServiceName, type SourceCatalogue } from './source-definition';

export interface IngestDocsOptions {
  catalogue: SourceCatalogue;
  maxFutureSeconds: number;
  bodyLimitBytes: number;
}

/** The title, description and named schemas of one ingest service's OpenAPI document. */
export function ingestApiDocs(
  definition: IngestSourceDefinition,
  schemas: IngestSchemas,
  options: IngestDocsOptions,
): ApiDocsOptions {
  const { channels, categories } = options.catalogue;
  return {
    title: `Taobi ${ingestServiceName(definition)}`,
    description: [
      `${definition.title}. Events become canonical consumption events on \`taobi.consumption.v1\``,
      `(source \`${definition.source}\`, key = memberId). Channels: ${channels.join(', ')}; categories:`,
      `${categories.join(', ')}. The answer 202 comes only after Kafka acknowledged every event; a batch`,
      `of up to ${MAX_BATCH_EVENTS} events is all or nothing. The eventId is deterministic (source, kind,`,
      'orderId or refundId), so retrying the same body is harmless.',
    ].join(' '),
    schemas: {
      OrderCompleted: schemas.completed,
      OrderRefunded: schemas.refunded,
      Batch: schemas.batch,
      Accepted: schemas.accepted,
    },
  };
}

/**
 * `POST /v1/events` as documented: the body is one event or a batch (the schemas the handler
 * validates with), the 202 and every error the route answers.
 */
export function ingestRouteDocs(
  definition: IngestSourceDefinition,
  schemas: IngestSchemas,
  options: IngestDocsOptions,
): FastifySchema {
  const body = z.union([schemas.event, schemas.batch]).meta({
    description: `One event, or a batch. At most ${options.bodyLimitBytes} bytes.`,
    examples: [
      definition.examples.completed,
      definition.examples.refunded,
      { events: [definition.examples.completed, definition.examples.refunded] },
    ],
  });
  return {
    ...documented({
      operationId: 'ingestEvents',
      summary: `Ingest ${definition.source} orders and refunds`,
      tags: ['ingest'],
      security: 'ingest',
      body,
      responses: {
        202: {
          description: 'Kafka acknowledged every event.',
          headers: {
            traceparent: {
              description:
                'W3C trace context of this request (when tracing is on): its trace id is on every record.',
              schema: { type: 'string' },
            },
          },
          content: { 'application/json': { schema: schemas.accepted } },
        },
      },
      errors: {
        400: 'INVALID_JSON, or VALIDATION_FAILED naming each bad field (missing, mistyped, unknown, bad value, same order twice in one batch). Nothing was published.',
        401: 'UNAUTHORIZED: no key, or an unknown key.',
        403: "FORBIDDEN: the key belongs to another source's platform.",
        413: `PAYLOAD_TOO_LARGE (body over ${options.bodyLimitBytes} bytes) or BATCH_TOO_LARGE (over ${MAX_BATCH_EVENTS} events).`,
        415: 'UNSUPPORTED_MEDIA_TYPE: send application/json.',
        422: `OCCURRED_AT_OUT_OF_RANGE: occurredAt more than ${options.maxFutureSeconds} s in the future, or before the 12-month scoring window.`,
        429: 'RATE_LIMITED: too many requests for this key; Retry-After says when to come back.',
        503: 'SERVICE_UNAVAILABLE: Kafka did not acknowledge in time. Nothing was accepted; retry the same body after Retry-After.',
      },
    }),
  };
}
