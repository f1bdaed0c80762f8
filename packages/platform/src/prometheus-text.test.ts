import { Counter, createMetricsRegistry, Gauge } from './metrics';
import { parsePrometheus, sumOf } from './prometheus-text';

describe('reading a service /metrics', () => {
  it('when prom-client exposes counters and gauges, then every series is read back with its labels and value', async () => {
    const registry = createMetricsRegistry('scoring');
    const events = new Counter({
      name: 'taobi_scoring_events_total',
      help: 'h',
      labelNames: ['outcome'],
      registers: [registry],
    });
    new Counter({ name: 'never_moved_total', help: 'h', labelNames: ['reason'], registers: [registry] });
    const gauge = new Gauge({ name: 'odd_labels', help: 'h', labelNames: ['reason'], registers: [registry] });
    events.labels('counted').inc(41);
    events.labels('counted').inc();
    events.labels('rejected').inc(3);
    gauge.labels('a "quoted", comma\\ and\nnewline').set(2.5);

    const exposition = parsePrometheus(await registry.metrics());

    expect(sumOf(exposition, 'taobi_scoring_events_total', { outcome: 'counted' })).toBe(42);
    expect(sumOf(exposition, 'taobi_scoring_events_total')).toBe(45);
    expect(exposition.series.find((s) => s.name === 'odd_labels')).toEqual({
      name: 'odd_labels',
      labels: { service: 'scoring', reason: 'a "quoted", comma\\ and\nnewline' },
      value: 2.5,
    });
    // Declared but never incremented: zero, not unknown.
    expect(sumOf(exposition, 'never_moved_total')).toBe(0);
    expect(sumOf(exposition, 'not_exported_total')).toBeUndefined();
  });

  it('when a line is not the text format, then it is skipped and the rest is read', () => {
    const exposition = parsePrometheus('garbage line here\nup 1\nbucket{le="+Inf"} +Inf\n');
    expect(exposition.series).toEqual([
      { name: 'up', labels: {}, value: 1 },
      { name: 'bucket', labels: { le: '+Inf' }, value: Number.POSITIVE_INFINITY },
    ]);
  });
});
