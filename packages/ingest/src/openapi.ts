import { z } from 'zod';
import { type IngestSchemas, MAX_BATCH_EVENTS } from './request-schema';
import { type IngestSourceDefinition, ingestServiceName, type SourceCatalogue } from './source-definition';

/** A zod schema as an OpenAPI 3.1 (JSON Schema 2020-12) component, without the `$schema` key. */
function component(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return rest;
}

const errorResponse = (description: string, example: unknown, headers?: Record<string, unknown>) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' }, example } },
});

const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
};

/**
 * The OpenAPI 3.1 description of one ingest service, generated from the same zod schemas that
 * validate its requests, so the document cannot drift from the behaviour.
 */
export function ingestOpenApiDocument(
  definition: IngestSourceDefinition,
  schemas: IngestSchemas,
  options: { catalogue: SourceCatalogue; maxFutureSeconds: number; bodyLimitBytes: number },
): Record<string, unknown> {
  const name = ingestServiceName(definition);
  const { channels, categories } = options.catalogue;
  return {
    openapi: '3.1.0',
    info: {
      title: `Taobi ${name}`,
      version: '1',
      description: [
        `${definition.title}. Events become canonical consumption events on \`taobi.consumption.v1\``,
        `(source \`${definition.source}\`, key = memberId). Channels: ${channels.join(', ')}; categories:`,
        `${categories.join(', ')}. The answer 202 comes only after Kafka acknowledged every event; a batch`,
        `of up to ${MAX_BATCH_EVENTS} events is all or nothing. The eventId is deterministic (source, kind,`,
        'orderId or refundId), so retrying the same body is harmless.',
      ].join(' '),
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'The key of your platform' },
      },
      schemas: {
        OrderCompleted: component(schemas.completed),
        OrderRefunded: component(schemas.refunded),
        Event: {
          oneOf: [
            { $ref: '#/components/schemas/OrderCompleted' },
            { $ref: '#/components/schemas/OrderRefunded' },
          ],
          discriminator: { propertyName: 'type' },
        },
        Batch: {
          type: 'object',
          description: `1 to ${MAX_BATCH_EVENTS} events, accepted or rejected as a whole.`,
          properties: {
            events: {
              type: 'array',
              minItems: 1,
              maxItems: MAX_BATCH_EVENTS,
              items: { $ref: '#/components/schemas/Event' },
            },
          },
          required: ['events'],
          additionalProperties: false,
        },
        Accepted: component(schemas.accepted),
        Error: component(schemas.error),
      },
    },
    security: [{ bearer: [] }],
    paths: {
      '/v1/events': {
        post: {
          operationId: 'ingestEvents',
          summary: `Ingest ${definition.source} orders and refunds`,
          requestBody: {
            required: true,
            description: `At most ${options.bodyLimitBytes} bytes.`,
            content: {
              'application/json': {
                schema: {
                  oneOf: [{ $ref: '#/components/schemas/Event' }, { $ref: '#/components/schemas/Batch' }],
                },
                examples: {
                  completed: { value: definition.examples.completed },
                  refunded: { value: definition.examples.refunded },
                  batch: { value: { events: [definition.examples.completed, definition.examples.refunded] } },
                },
              },
            },
          },
          responses: {
            '202': {
              description: 'Kafka acknowledged every event.',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Accepted' } } },
            },
            '400': errorResponse(
              'INVALID_JSON, or VALIDATION_FAILED naming each bad field (missing, mistyped, unknown, bad value, same order twice in one batch). Nothing was published.',
              {
                error: {
                  code: 'VALIDATION_FAILED',
                  message: 'request validation failed',
                  fields: [{ field: 'events.1.amount', message: 'must be positive' }],
                },
              },
            ),
            '401': errorResponse('UNAUTHORIZED: no key, or an unknown key.', {
              error: { code: 'UNAUTHORIZED', message: 'a valid bearer key is required' },
            }),
            '403': errorResponse("FORBIDDEN: the key belongs to another source's platform.", {
              error: { code: 'FORBIDDEN', message: 'this key is bound to the food source; ...' },
            }),
            '413': errorResponse(
              `PAYLOAD_TOO_LARGE (body over ${options.bodyLimitBytes} bytes) or BATCH_TOO_LARGE (over ${MAX_BATCH_EVENTS} events).`,
              {
                error: {
                  code: 'BATCH_TOO_LARGE',
                  message: '...',
                  fields: [{ field: 'events', message: '...' }],
                },
              },
            ),
            '415': errorResponse('UNSUPPORTED_MEDIA_TYPE: send application/json.', {
              error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'send application/json' },
            }),
            '422': errorResponse(
              `OCCURRED_AT_OUT_OF_RANGE: occurredAt more than ${options.maxFutureSeconds} s in the future, or before the 12-month scoring window.`,
              {
                error: {
                  code: 'OCCURRED_AT_OUT_OF_RANGE',
                  message: 'occurredAt is outside what can be accepted',
                  fields: [{ field: 'occurredAt', message: 'is before the scoring window, ...' }],
                },
              },
            ),
            '429': errorResponse(
              'RATE_LIMITED: too many requests for this key.',
              { error: { code: 'RATE_LIMITED', message: 'too many requests for this key' } },
              retryAfter,
            ),
            '503': errorResponse(
              'SERVICE_UNAVAILABLE: Kafka did not acknowledge in time. Nothing was accepted; retry the same body after Retry-After.',
              { error: { code: 'SERVICE_UNAVAILABLE', message: '...' } },
              retryAfter,
            ),
          },
        },
      },
    },
  };
}
