import { collectDefaultMetrics, type Metric, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** One registry per service, labelled with the service name, with Node's process metrics. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * The registry's metric of that name, created on first use: for metrics that several components of
 * one service move (two consumers, two read models), which prom-client would refuse to register twice.
 */
export function sharedMetric<M extends Metric>(
  registry: Registry,
  name: string,
  create: (name: string) => M,
): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create(name);
}
