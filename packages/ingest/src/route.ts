import type { ConsumptionEvent } from '@taobi/contracts';
import {
  type HttpRateLimit,
  type Logger,
  type OutgoingRecord,
  rateLimitRoute,
  toAppError,
} from '@taobi/platform';
import type { RuleSet } from '@taobi/rules';
import type { FastifyInstance, FastifyRequest, FastifySchema } from 'fastify';
import type { BatchingPublisher } from './batching-publisher';
import { ingestEventId, toCanonicalEvent } from './canonical';
import { IngestErrors } from './errors';
import type { SourceKey, SourceKeys } from './keys';
import type { IngestMetrics } from './metrics';
import type { IngestSchemas } from './request-schema';
import type { IngestEvent, IngestSourceDefinition } from './source-definition';
import { occurredAtRanges } from './time-window';
import { validateIngestBody } from './validate';

export interface IngestRouteOptions {
  definition: IngestSourceDefinition;
  schemas: IngestSchemas;
  keys: SourceKeys;
  /** Per API key; checked after the key, before the body is read. */
  rateLimit: HttpRateLimit;
  publisher: BatchingPublisher;
  metrics: IngestMetrics;
  /** The consumption topic (with the configured prefix). */
  topic: string;
  now: () => Date;
  /** The rule set in force: its evaluation day and window bound `occurredAt`. */
  rules: RuleSet;
  maxFutureMs: number;
  retryAfterSeconds: number;
  /** The route's OpenAPI entry (`ingestRouteDocs`). */
  docs: FastifySchema;
  logger: Logger;
}

/**
 * `POST /v1/events`. Order of checks: key (401 / 403), rate limit (429),
 * media type and size (415 / 413, by fastify's parser), body (400 / 413 / 422), then Kafka
 * (202, or 503 with Retry-After).
 */
export function registerIngestRoutes(app: FastifyInstance, options: IngestRouteOptions): void {
  const { definition } = options;
  const bindings = { component: 'ingest', source: definition.source };
  // The request's logger (its id, and its trace's ids: the app does not run the route in the trace
  // context, see `runInTraceContext`) with the route's bindings.
  const logOf = (request: FastifyRequest) => request.log.child(bindings);
  const keyOf = new WeakMap<FastifyRequest, SourceKey>();
  const eventCountOf = new WeakMap<FastifyRequest, number>();
  const rangeAt = occurredAtRanges(options.maxFutureMs, options.rules);
  const eventIdOf = (event: IngestEvent) => ingestEventId(definition, event);

  app.post(
    '/v1/events',
    {
      config: {
        rateLimit: rateLimitRoute(options.rateLimit, {
          keyOf: (request) => keyOf.get(request)?.keyId ?? '',
          per: 'for this key',
          hook: 'preParsing',
        }),
      },
      schema: options.docs,
      onRequest: (request, _reply, done) => {
        try {
          keyOf.set(request, options.keys.authenticate(request, definition.source));
        } catch (error) {
          return done(error as Error);
        }
        done();
      },
      // Every rejection passes here before the error handler answers it: count it under the code
      // the client sees, and say why in one log line (never the key, never the body).
      onError: async (request, _reply, error) => {
        const appError = toAppError(error);
        const code = appError?.code ?? 'INTERNAL';
        const count = eventCountOf.get(request) ?? 1;
        options.metrics.rejected(code, count);
        if (appError && appError.statusCode < 500) {
          // A client over its rate would flood the log at info: its 429s are counted, and logged at debug.
          const level = appError.statusCode === 429 ? 'debug' : 'info';
          logOf(request)[level](
            {
              keyId: keyOf.get(request)?.keyId,
              code,
              events: count,
              fields: appError.fields?.slice(0, 20),
            },
            'ingest request rejected',
          );
        }
      },
    },
    async (request, reply) => {
      const now = options.now();
      const result = validateIngestBody(request.body, {
        definition,
        schemas: options.schemas,
        range: rangeAt(now),
        maxFutureMs: options.maxFutureMs,
        eventIdOf,
      });
      if (!result.ok) {
        eventCountOf.set(request, result.eventCount);
        throw result.error;
      }
      eventCountOf.set(request, result.events.length);
      // Loops, not maps: no closure made per request (most requests carry one event).
      const events: ConsumptionEvent[] = [];
      const records: OutgoingRecord[] = [];
      for (const valid of result.events) {
        const event = toCanonicalEvent(definition, valid, now);
        events.push(event);
        records.push({
          topic: options.topic,
          key: event.memberId,
          value: event,
          traceContext: request.traceContext,
        });
      }
      try {
        await options.publisher.publish(records);
      } catch (error) {
        throw IngestErrors.publishFailed(options.retryAfterSeconds, error);
      }
      options.metrics.accepted(events.length);
      if (options.logger.isLevelEnabled('debug')) {
        const log = logOf(request);
        for (const event of events) {
          log.debug(
            { eventId: event.eventId, memberId: event.memberId, topic: options.topic },
            'event accepted',
          );
        }
      }
      const accepted: { eventId: string }[] = [];
      for (const event of events) accepted.push({ eventId: event.eventId });
      return reply.status(202).send({ accepted });
    },
  );
}
