import { Gauge, type Logger, type Pool, type Registry } from '@taobi/platform';

/**
 * `taobi_entitlement_periodic_last_success_timestamp_seconds{cadence}`: when the latest periodic
 * issue of each cadence (daily, weekly, monthly) finished, read from `entitlement.periodic_runs` at
 * scrape time. Its progress while it runs is `taobi_entitlement_periodic_members_scanned_total`.
 */
export function registerPeriodicGauge(registry: Registry, pool: Pool, logger: Logger): void {
  new Gauge({
    name: 'taobi_entitlement_periodic_last_success_timestamp_seconds',
    help: 'When the latest periodic issue of each cadence finished',
    labelNames: ['cadence'],
    registers: [registry],
    async collect() {
      try {
        const { rows } = await pool.query<{ cadence: string; finished: number }>(
          `SELECT cadence, extract(epoch FROM max(finished_at))::float8 AS finished
           FROM entitlement.periodic_runs WHERE finished_at IS NOT NULL GROUP BY cadence`,
        );
        this.reset();
        for (const row of rows) this.labels(row.cadence).set(row.finished);
      } catch (error) {
        logger.warn({ err: error }, 'periodic issue marks not read');
      }
    },
  });
}
