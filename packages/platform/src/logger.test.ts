import { Writable } from 'node:stream';
import { createLogger, DeferredChildLogger } from './logger';
import { TRACEPARENT, traceparentOf, tracer } from './trace-context';
import { startTracing } from './tracing';

/** A logger whose JSON lines land in an array. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { logger: createLogger({ name: 'test', level: 'debug' }, destination), lines };
}

describe('log lines and traces', () => {
  // As a service runs without OTEL_EXPORTER_OTLP_ENDPOINT: nothing exported, spans not recorded.
  const tracing = startTracing({ serviceName: 'logger-test', env: {} });
  afterAll(() => tracing.shutdown());

  it('when a line is logged inside a span, then it carries the trace_id and span_id of that span', () => {
    const { logger, lines } = capturingLogger();
    const ids = tracer().startActiveSpan('work', (span) => {
      logger.child({ component: 'consumer' }).warn({ err: new Error('boom'), memberId: 'm-1' }, 'inside');
      span.end();
      return { ...span.spanContext(), traceparent: traceparentOf() };
    });

    expect(tracing.exporting).toBe(false);
    expect(ids.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(ids.traceparent).toBe(`00-${ids.traceId}-${ids.spanId}-00`);
    expect(lines).toEqual([
      expect.objectContaining({
        msg: 'inside',
        component: 'consumer',
        memberId: 'm-1',
        trace_id: ids.traceId,
        span_id: ids.spanId,
        err: expect.objectContaining({ message: 'boom' }),
      }),
    ]);
  });

  it('when a line is logged outside any span, then it has no trace fields', () => {
    const { logger, lines } = capturingLogger();
    logger.info({ [TRACEPARENT]: 'none' }, 'outside');
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[0]).not.toHaveProperty('span_id');
  });
});

describe('DeferredChildLogger', () => {
  it('when it writes, then the line is the one a pino child with its bindings writes', () => {
    const { logger, lines } = capturingLogger();
    logger.child({ reqId: 'r-1' }).child({ component: 'ingest' }).info({ events: 1 }, 'same');
    new DeferredChildLogger(logger, { reqId: 'r-1' })
      .child({ component: 'ingest' })
      .info({ events: 1 }, 'same');
    const [pinoLine, deferredLine] = lines.map(({ time: _time, ...rest }) => rest);
    expect(deferredLine).toEqual(pinoLine);
    expect(deferredLine).toMatchObject({ reqId: 'r-1', component: 'ingest', events: 1, msg: 'same' });
  });

  it('when nothing is written at an enabled level, then no pino child is made', () => {
    const { logger, lines } = capturingLogger();
    const made = jest.spyOn(logger, 'child');
    const deferred = new DeferredChildLogger(logger, { reqId: 'r-2' }).child({ trace_id: 't' });
    deferred.trace('below the level');
    expect(deferred.isLevelEnabled('trace')).toBe(false);
    expect(made).not.toHaveBeenCalled();
    deferred.debug('at the level');
    expect(made).toHaveBeenCalledTimes(1);
    expect(lines).toEqual([expect.objectContaining({ reqId: 'r-2', trace_id: 't', msg: 'at the level' })]);
  });
});
