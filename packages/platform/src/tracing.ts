import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  RandomIdGenerator,
  type SpanExporter,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { z } from 'zod';
import { ConfigError, loadConfig } from './config';
import { onSpanIdsOnly, onSpansExported, onTracingShutdown, UNTRACED_PATHS } from './trace-context';

/**
 * OpenTelemetry for a Taobi service: W3C trace context, HTTP server and client spans (node:http
 * and fetch), Postgres spans (pg), and the Kafka spans `publish` and the batch consumer make
 * themselves (`trace-context.ts`).
 *
 * This module is the service's `src/tracing.ts` import, the first line of its `main.ts`: the
 * instrumentations patch `http` and `pg` as they are required, so nothing may load them before.
 * It imports only OpenTelemetry and the config parser, never what loads http, pg or kafkajs.
 *
 * Spans are exported (OTLP, http/protobuf, to `<endpoint>/v1/traces`) only when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set. Otherwise every span is a non-recording one: it still has a
 * trace id and a span id, so the `traceparent` headers, the outbox's trace column and the logs'
 * `trace_id` work the same, but nothing is recorded, buffered or sent.
 */
const tracingEnvSchema = z.object({
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /** How long spans wait in the batch before an export (the OpenTelemetry default: 5 s). */
  OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().positive().default(5000),
  /** OpenTelemetry's switch: no SDK at all (no spans, ids, headers or trace_id in logs). */
  OTEL_SDK_DISABLED: z.enum(['true', 'false']).default('false'),
});

export interface Tracing {
  /** Whether spans are recorded and exported. */
  readonly exporting: boolean;
  /** Exports what is buffered and stops (runService calls it once the service has stopped). */
  shutdown(): Promise<void>;
}

/**
 * The OTLP exporter, loaded only when spans are exported: its protobuf encoder is a sizeable share of
 * a service's start-up, which a process that exports nothing need not pay.
 */
function otlpExporter(url: string): SpanExporter {
  // A lazy load: this module is compiled to CommonJS, where require is synchronous.
  const { OTLPTraceExporter } =
    require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter({ url });
}

export function startTracing(options: {
  serviceName: string;
  env: Record<string, string | undefined>;
}): Tracing {
  let env: z.infer<typeof tracingEnvSchema>;
  try {
    env = loadConfig(tracingEnvSchema, options.env);
  } catch (error) {
    // As runService does for the rest of the configuration: exit 2 naming the variable.
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${options.serviceName}: ${error.message}\n`);
    process.exit(2);
  }
  if (env.OTEL_SDK_DISABLED === 'true') return { exporting: false, shutdown: async () => undefined };
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }),
    sampler: endpoint ? new ParentBasedSampler({ root: new AlwaysOnSampler() }) : new AlwaysOffSampler(),
    spanProcessors: endpoint
      ? [
          new BatchSpanProcessor({
            exporter: otlpExporter(`${endpoint.replace(/\/+$/, '')}/v1/traces`),
            scheduledDelayMillis: env.OTEL_BSP_SCHEDULE_DELAY,
          }),
        ]
      : [],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  // Unregistered on shutdown: undici's diagnostics channels are process-wide, and an instrumentation
  // left subscribed would put this provider's (unsampled) traceparent on every later fetch.
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // Outgoing calls carry the trace on (`traceparent`), exported or not.
      new UndiciInstrumentation(),
      // Spans that are only recorded to be exported: when nothing is, the server span of a request
      // is made by `createHttpApp` (ids only, a fraction of the instrumentation's cost per request),
      // and a query needs none.
      ...(endpoint
        ? [
            new HttpInstrumentation({
              ignoreIncomingRequestHook: (request) =>
                UNTRACED_PATHS.has((request.url ?? '').split('?')[0] ?? ''),
            }),
            // A query outside any span (the outbox relay's idle polls) would be a trace of its own,
            // four a second: only queries made while serving a request, a batch or a job are traced.
            new PgInstrumentation({ requireParentSpan: true }),
          ]
        : []),
    ],
  });
  if (endpoint) onSpansExported();
  else onSpanIdsOnly(new RandomIdGenerator());
  const tracing: Tracing = {
    exporting: endpoint !== undefined,
    shutdown: async () => {
      onSpanIdsOnly(undefined);
      unregister();
      await provider.shutdown();
    },
  };
  onTracingShutdown(tracing.shutdown);
  return tracing;
}
