import { API_ROUTE_ERRORS, type ApiDocsOptions, badFields, documented, Errors } from '@taobi/platform';
import type { FastifySchema } from 'fastify';
import { z } from 'zod';
import { IngestErrors } from './errors';
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
      errors: [
        Errors.invalidJson.doc('the body is not JSON'),
        badFields(
          'the body (missing, mistyped, unknown, bad value, same order twice in one batch); nothing was published',
        ),
        Errors.forbidden.doc("the key belongs to another source's platform"),
        Errors.payloadTooLarge.doc(`the body is over ${options.bodyLimitBytes} bytes`),
        IngestErrors.batchTooLarge.doc(`over ${MAX_BATCH_EVENTS} events`),
        Errors.unsupportedMediaType.doc('send application/json'),
        IngestErrors.occurredAtOutOfRange.doc(
          `occurredAt more than ${options.maxFutureSeconds} s in the future, or before the 12-month scoring window`,
        ),
        ...API_ROUTE_ERRORS,
        Errors.unavailable.doc(
          'Kafka did not acknowledge in time; nothing was accepted, retry the same body',
        ),
      ],
    }),
  };
}
