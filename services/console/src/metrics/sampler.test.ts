import { Counter, Gauge, Registry } from '@taobi/platform';
import { testLogger } from '@taobi/tests';
import type { UpstreamService } from '../config';
import type { ApiResult, Upstream } from '../upstream/api';
import { createMetricsSampler } from './sampler';

/** Services whose /metrics are real prom-client registries the test moves; `down` ones do not answer. */
function services() {
  const registries = new Map<UpstreamService, Registry>();
  const counters = new Map<UpstreamService, Counter>();
  const down = new Set<UpstreamService>();
  let started = 1_700_000_000;
  const restart = (service: UpstreamService) => {
    // What a service's registry exposes (createMetricsRegistry): its process start time among others.
    const registry = new Registry();
    started += 1;
    new Gauge({ name: 'process_start_time_seconds', help: 'h', registers: [registry] }).set(started);
    registries.set(service, registry);
    counters.set(
      service,
      new Counter({ name: 'taobi_ingest_events_accepted_total', help: 'h', registers: [registry] }),
    );
  };
  restart('ingest-food');
  restart('ingest-travel');
  const upstream: Upstream = {
    urls: {} as Upstream['urls'],
    async call<T>(service: UpstreamService): Promise<ApiResult<T>> {
      const registry = registries.get(service);
      if (!registry || down.has(service))
        return { ok: false, failure: 'failed', message: `${service} is down` };
      return { ok: true, status: 200, data: (await registry.metrics()) as T };
    },
  };
  return { upstream, counters, down, restart };
}

describe('the metrics sampler', () => {
  const query = {
    metric: 'taobi_ingest_events_accepted_total',
    services: ['ingest-food', 'ingest-travel'] as const,
  };

  it('when counters move between scrapes, then the total is their sum and the rate is per second over the last minute', async () => {
    const { upstream, counters } = services();
    let now = 1_000_000;
    const sampler = createMetricsSampler({
      upstream,
      intervalMs: 15_000,
      logger: testLogger(),
      now: () => now,
    });
    await sampler.scrape();
    expect(sampler.total(query)).toBe(0);
    expect(sampler.rate(query)).toBeUndefined();

    counters.get('ingest-food')?.inc(300);
    counters.get('ingest-travel')?.inc(150);
    now += 30_000;
    await sampler.scrape();
    expect(sampler.total(query)).toBe(450);
    expect(sampler.rate(query)).toBe(15);

    // Past a minute, the rate covers the last minute only.
    counters.get('ingest-food')?.inc(600);
    now += 60_000;
    await sampler.scrape();
    expect(sampler.rate(query)).toBe(600 / 60);
  });

  it('when a service restarts (its counter drops) or stops answering, then it is left out of the rate, and its last answer counts for the total', async () => {
    const { upstream, counters, down, restart } = services();
    let now = 0;
    const sampler = createMetricsSampler({
      upstream,
      intervalMs: 15_000,
      logger: testLogger(),
      now: () => now,
    });
    counters.get('ingest-food')?.inc(100);
    counters.get('ingest-travel')?.inc(100);
    await sampler.scrape();
    restart('ingest-food');
    // More than before the restart: still no rate from a counter that started again from zero.
    counters.get('ingest-food')?.inc(150);
    counters.get('ingest-travel')?.inc(60);
    now += 30_000;
    await sampler.scrape();
    expect(sampler.rate(query)).toBe(2);
    expect(sampler.total(query)).toBe(310);
    counters.get('ingest-food')?.inc(30);
    now += 15_000;
    await sampler.scrape();
    expect(sampler.rate(query)).toBe(2 + 60 / 45);

    down.add('ingest-travel');
    now += 15_000;
    await sampler.scrape();
    expect(sampler.latest()['ingest-travel']?.error).toBe('ingest-travel is down');
    expect(sampler.total(query)).toBe(340);
  });
});
