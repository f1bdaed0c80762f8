import { promqlMetricNames } from './promql';

describe('reading metric names out of PromQL', () => {
  it('when an expression has functions, label matchers, ranges, label lists, offsets and numbers, then only the metrics are named', () => {
    expect(
      promqlMetricNames(
        'sum by (service, route) (rate(taobi_http_request_duration_seconds_count{status_code=~"5.."}[5m])) > 0 ' +
          'or (time() - max by (cadence) (taobi_entitlement_periodic_last_success_timestamp_seconds offset 15m)) > 26 * 3600 ' +
          'and on (service) max(up{job="taobi"}) == 0 unless histogram_quantile(0.99, sum by (le) (rate(x_bucket[1e3s])))',
      ).sort(),
    ).toEqual([
      'taobi_entitlement_periodic_last_success_timestamp_seconds',
      'taobi_http_request_duration_seconds_count',
      'up',
      'x_bucket',
    ]);
  });
});
