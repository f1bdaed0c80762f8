import { type Exposition, type Logger, parsePrometheus, type Series, sumOf } from '@taobi/platform';
import { UPSTREAM_SERVICES, type UpstreamService } from '../config';
import type { Upstream } from '../upstream/api';

export interface Scrape {
  at: number;
  /** What the service exposed, or undefined when its /metrics did not answer. */
  metrics?: Exposition;
  error?: string;
}

/** Which series a figure adds up: a metric (optionally filtered by labels) on some services. */
export interface MetricQuery {
  metric: string;
  where?: Record<string, string>;
  services: readonly UpstreamService[];
}

export interface MetricsSampler {
  start(): void;
  stop(): void;
  /** Scrapes every service now (the programme view calls it when the last scrape is stale). */
  scrape(): Promise<void>;
  /** The newest scrape of each service. */
  latest(): Partial<Record<UpstreamService, Scrape>>;
  /** The current value summed over the services that answered, or undefined when none has it. */
  total(query: MetricQuery): number | undefined;
  /** Per second over the last `RATE_WINDOW_MS` (undefined until two scrapes, or after a restart). */
  rate(query: MetricQuery): number | undefined;
  /** The newest series, on any service, whose name matches `pattern`. */
  matching(pattern: RegExp): { service: UpstreamService; series: Series }[];
  readonly intervalMs: number;
}

const KEEP_MS = 5 * 60_000;
/** Rates are computed over (at least) the last minute of scrapes. */
export const RATE_WINDOW_MS = 60_000;

const figureOf = (scrape: Scrape, query: MetricQuery) =>
  scrape.metrics && sumOf(scrape.metrics, query.metric, query.where);

/**
 * The newest scrapes of one process: back from the newest, until the process start time changes or
 * the counter goes down (a restart: counters start again from zero).
 */
function sameProcess(scrapes: Scrape[], query: MetricQuery): Scrape[] {
  const startOf = (scrape: Scrape) => scrape.metrics && sumOf(scrape.metrics, 'process_start_time_seconds');
  let first = scrapes.length - 1;
  while (first > 0) {
    const [before, after] = [scrapes[first - 1] as Scrape, scrapes[first] as Scrape];
    if (startOf(before) !== startOf(after) || (figureOf(before, query) ?? 0) > (figureOf(after, query) ?? 0))
      break;
    first -= 1;
  }
  return scrapes.slice(first);
}

/**
 * Scrapes every service's `/metrics` every `intervalMs` and keeps five minutes of them, so the
 * programme view can show rates (events per second) without a Prometheus. Counters are per
 * process: a service that restarted starts again from zero, and its rate is left out until the
 * window holds only the new process's scrapes.
 */
export function createMetricsSampler(options: {
  upstream: Upstream;
  intervalMs: number;
  logger: Logger;
  now?: () => number;
}): MetricsSampler {
  const now = options.now ?? Date.now;
  const history = new Map<UpstreamService, Scrape[]>(UPSTREAM_SERVICES.map((s) => [s, []]));
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;

  async function scrapeOne(service: UpstreamService): Promise<void> {
    const result = await options.upstream.call<string>(service, '/metrics', { text: true });
    const at = now();
    const scrapes = history.get(service) as Scrape[];
    scrapes.push(result.ok ? { at, metrics: parsePrometheus(result.data) } : { at, error: result.message });
    while (scrapes.length > 0 && (scrapes[0] as Scrape).at < at - KEEP_MS) scrapes.shift();
  }

  function scrape(): Promise<void> {
    inFlight ??= Promise.all(UPSTREAM_SERVICES.map(scrapeOne))
      .then(() => undefined)
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  }

  function answered(service: UpstreamService): Scrape[] {
    return (history.get(service) ?? []).filter((s) => s.metrics !== undefined);
  }

  return {
    intervalMs: options.intervalMs,
    start() {
      const tick = () =>
        void scrape().catch((error: unknown) => options.logger.warn({ err: error }, 'metrics scrape failed'));
      tick();
      timer = setInterval(tick, options.intervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
    scrape,
    latest() {
      return Object.fromEntries(
        UPSTREAM_SERVICES.flatMap((service) => {
          const last = history.get(service)?.at(-1);
          return last ? [[service, last]] : [];
        }),
      );
    },
    total(query) {
      let total: number | undefined;
      for (const service of query.services) {
        const metrics = answered(service).at(-1)?.metrics;
        const value = metrics && sumOf(metrics, query.metric, query.where);
        if (value !== undefined) total = (total ?? 0) + value;
      }
      return total;
    },
    matching(pattern) {
      return UPSTREAM_SERVICES.flatMap((service) =>
        (answered(service).at(-1)?.metrics?.series ?? [])
          .filter((series) => pattern.test(series.name))
          .map((series) => ({ service, series })),
      );
    },
    rate(query) {
      let rate: number | undefined;
      for (const service of query.services) {
        const scrapes = sameProcess(answered(service), query);
        const newest = scrapes.at(-1);
        if (!newest || scrapes.length < 2) continue;
        // The newest scrape at least a window older than the newest one, else the oldest we have.
        const older = scrapes.findLast((s) => s.at <= newest.at - RATE_WINDOW_MS) ?? (scrapes[0] as Scrape);
        const to = figureOf(newest, query) ?? 0;
        const from = figureOf(older, query) ?? 0;
        rate = (rate ?? 0) + (to - from) / ((newest.at - older.at) / 1000);
      }
      return rate;
    },
  };
}
