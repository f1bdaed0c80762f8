import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api';

/**
 * The trace context Taobi carries between services: W3C `traceparent` in HTTP headers, in Kafka
 * record headers and in the outboxes' `traceparent` column. Everything here goes through the
 * OpenTelemetry API, so it costs next to nothing (and propagates nothing) in a process where
 * `startTracing` did not run, such as a unit test.
 */
export const TRACEPARENT = 'traceparent';

/** The tracer of Taobi's own spans (Kafka send and process); HTTP and pg spans are instrumented. */
export const tracer = () => trace.getTracer('@taobi/platform');

let exported = false;

/** Called by `startTracing` when spans are exported (and the HTTP instrumentation makes the server spans). */
export function onSpansExported(): void {
  exported = true;
}

/** What makes span ids: the SDK's own generator (`RandomIdGenerator`). */
export interface SpanIds {
  generateTraceId(): string;
  generateSpanId(): string;
}

let idsOnly: SpanIds | undefined;

/**
 * Called by `startTracing` when spans are not exported: the spans of requests and records (the
 * ones made on every request and every record) are then made here, with these ids, instead of by
 * the SDK's tracer, which would make the same non-recording span after a sampler, attribute
 * clean-up and span metrics that decide nothing (three quarters of a record's span, half a
 * request's, measured).
 */
export function onSpanIdsOnly(ids: SpanIds | undefined): void {
  idsOnly = ids;
}

/**
 * A span that records nothing, under `parent`: its trace (and trace state) if `parent` holds a
 * valid span, else a new trace; a new span id; not sampled. What the SDK's tracer makes under
 * `AlwaysOffSampler`.
 */
function spanWithIds(ids: SpanIds, parent: Context): Span {
  const parentSpan = trace.getSpanContext(parent);
  const valid = parentSpan !== undefined && trace.isSpanContextValid(parentSpan);
  return trace.wrapSpanContext({
    traceId: valid ? parentSpan.traceId : ids.generateTraceId(),
    spanId: ids.generateSpanId(),
    traceFlags: TraceFlags.NONE,
    traceState: valid ? parentSpan.traceState : undefined,
  });
}

/**
 * Whether spans are recorded and exported. When they are not, a span is only its ids: the HTTP
 * server span of a request is made by `createHttpApp` (`serverSpanContext`) instead of the
 * instrumentation, and spans get no attributes.
 */
export function spansExported(): boolean {
  return exported;
}

/** The W3C `traceparent` of a context (the active one by default), or null when it holds no span. */
export function traceparentOf(from: Context = context.active()): string | null {
  const carrier: Record<string, string> = {};
  propagation.inject(from, carrier);
  return carrier[TRACEPARENT] ?? null;
}

/** The context a `traceparent` (from a header or an outbox row) continues; the root one for none. */
export function contextFromTraceparent(traceparent: string | null | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { [TRACEPARENT]: traceparent });
}

/** A Kafka record's header as a string (kafkajs gives Buffers, or arrays for repeated headers). */
export function headerValue(value: Buffer | string | (Buffer | string)[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/** The trace id and span id of the active span (or that of `from`), for log lines (`trace_id`, `span_id`). */
export function activeTraceIds(
  from: Context = context.active(),
): { trace_id: string; span_id: string } | undefined {
  const span = trace.getSpan(from);
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  if (!trace.isSpanContextValid(span.spanContext())) return undefined;
  return { trace_id: traceId, span_id: spanId };
}

/** Kafka span attributes (OpenTelemetry messaging semantic conventions). */
export function kafkaAttributes(
  operation: 'send' | 'process',
  topic: string,
  extra: Attributes = {},
): Attributes {
  return {
    'messaging.system': 'kafka',
    'messaging.operation.type': operation,
    'messaging.operation.name': operation,
    'messaging.destination.name': topic,
    ...extra,
  };
}

/** Starts a Kafka span (`send <topic>` or `process <topic>`) under `parent`. */
export function startKafkaSpan(
  operation: 'send' | 'process',
  topic: string,
  parent: Context,
  options: { attributes?: Attributes; links?: Link[] } = {},
): Span {
  if (idsOnly) return spanWithIds(idsOnly, parent);
  return tracer().startSpan(
    `${operation} ${topic}`,
    {
      kind: operation === 'send' ? SpanKind.PRODUCER : SpanKind.CONSUMER,
      // Attributes nobody records are not worth building (one span per record sent or consumed).
      ...(exported ? { attributes: kafkaAttributes(operation, topic, options.attributes) } : {}),
      ...(options.links ? { links: options.links } : {}),
    },
    parent,
  );
}

/** Ends spans, marking them failed with `error` when there is one. */
export function endSpans(spans: readonly Span[], error?: unknown): void {
  for (const span of spans) {
    if (error !== undefined) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
    }
    span.end();
  }
}

/**
 * Records bound to the active trace, for a publisher that sends them later, from another context
 * (the ingest kit queues the records of many requests into one send).
 */
export function boundToActiveTrace<T extends { traceContext?: Context }>(records: readonly T[]): T[] {
  const active = context.active();
  return records.map((record) => (record.traceContext ? record : { ...record, traceContext: active }));
}

const RECORD_TRACES = createContextKey('taobi.record-traces');

/**
 * Runs a batch handler with the trace context of each record's key at hand (the last record with
 * that key wins): what `enqueueOutbox` stores with a row about that key, so the record it causes
 * continues the trace of the record that caused it, though the batch is handled as a whole.
 */
export function withRecordTraces<T>(byKey: ReadonlyMap<string, Context>, run: () => T): T {
  return context.with(context.active().setValue(RECORD_TRACES, byKey), run);
}

/** The `traceparent` of the record with this key in the batch being handled, else the active one. */
export function traceparentForKey(key: string | null): string | null {
  const byKey = context.active().getValue(RECORD_TRACES) as ReadonlyMap<string, Context> | undefined;
  const recordContext = key === null ? undefined : byKey?.get(key);
  return traceparentOf(recordContext ?? context.active());
}

/** Paths whose requests get no server span: probes and scrapes would drown the traces. */
export const UNTRACED_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * The context of a request's server span, for a process whose HTTP server is not instrumented: a
 * span continuing the request's `traceparent` (or starting a trace), with its own span id. Nothing
 * records it: under `startTracing` without an exporter it is non-recording, without `startTracing`
 * it has no valid ids (and `traceparentOf` gives null).
 */
export function serverSpanContext(headers: Record<string, string | string[] | undefined>): Context {
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  const span = idsOnly
    ? spanWithIds(idsOnly, parent)
    : tracer().startSpan('HTTP', { kind: SpanKind.SERVER }, parent);
  return trace.setSpan(parent, span);
}

let shutdownTracing: (() => Promise<void>) | undefined;

/** Called by `startTracing`: what `flushTraces` runs. */
export function onTracingShutdown(shutdown: () => Promise<void>): void {
  shutdownTracing = shutdown;
}

/** Exports the spans still buffered and stops tracing (a no-op without `startTracing`). */
export async function flushTraces(): Promise<void> {
  await shutdownTracing?.();
}
