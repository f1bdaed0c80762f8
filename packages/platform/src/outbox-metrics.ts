import type { Pool } from 'pg';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from './logger';
import { sharedMetric } from './metrics';

export interface OutboxMetrics {
  published: Counter<'topic'>;
  failures: Counter;
  recovered: Counter<'topic'>;
}

interface Backlog {
  pending: number;
  oldestSeconds: number;
}

const backlogSources = new WeakMap<Registry, Set<() => Promise<Backlog>>>();

/**
 * - `taobi_outbox_published_total{topic}`, `taobi_outbox_publish_failures_total`: what the relay did;
 * - `taobi_outbox_recovered_total{topic}`: rows it found already on the topic when it checked
 *   before sending them again (after a failed send or taking over from another relay), and so
 *   marked published instead of sending twice;
 * - `taobi_outbox_pending_records`, `taobi_outbox_oldest_pending_age_seconds`: what it has still to
 *   do, read from the outbox table at scrape time (right across instances, and while the relay is
 *   stuck): unpublished rows, and how long ago the oldest of them was committed (0 when none).
 */
export function createOutboxMetrics(options: {
  registry: Registry;
  pool: Pool;
  table: string;
  logger: Logger;
}): OutboxMetrics {
  const { registry } = options;
  const sources = backlogSources.get(registry) ?? new Set();
  backlogSources.set(registry, sources);
  const backlog = async (): Promise<Backlog[]> =>
    Promise.all([...sources].map((read) => read().catch(() => ({ pending: 0, oldestSeconds: 0 }))));
  sharedMetric(
    registry,
    'taobi_outbox_pending_records',
    (name) =>
      new Gauge({
        name,
        help: 'Outbox records committed and not yet published to Kafka',
        registers: [registry],
        async collect() {
          this.set((await backlog()).reduce((sum, b) => sum + b.pending, 0));
        },
      }),
  );
  sharedMetric(
    registry,
    'taobi_outbox_oldest_pending_age_seconds',
    (name) =>
      new Gauge({
        name,
        help: 'Age of the oldest unpublished outbox record (0 when the outbox is drained)',
        registers: [registry],
        async collect() {
          this.set(Math.max(0, ...(await backlog()).map((b) => b.oldestSeconds)));
        },
      }),
  );
  sources.add(async () => {
    try {
      const { rows } = await options.pool.query<{ pending: string; oldest: number | null }>(
        `SELECT count(*) AS pending, extract(epoch FROM now() - min(created_at))::float8 AS oldest
         FROM ${options.table} WHERE published_at IS NULL`,
      );
      return { pending: Number(rows[0]?.pending ?? 0), oldestSeconds: Math.max(0, rows[0]?.oldest ?? 0) };
    } catch (error) {
      options.logger.warn({ err: error, table: options.table }, 'outbox backlog not measured');
      throw error;
    }
  });
  return {
    published: sharedMetric(
      registry,
      'taobi_outbox_published_total',
      (name) =>
        new Counter({
          name,
          help: 'Records the outbox relay published, by topic',
          labelNames: ['topic'],
          registers: [registry],
        }),
    ),
    failures: sharedMetric(
      registry,
      'taobi_outbox_publish_failures_total',
      (name) =>
        new Counter({
          name,
          help: 'Outbox batches that could not be published (retried)',
          registers: [registry],
        }),
    ),
    recovered: sharedMetric(
      registry,
      'taobi_outbox_recovered_total',
      (name) =>
        new Counter({
          name,
          help: 'Outbox records found already on the topic before a re-send, so not sent again, by topic',
          labelNames: ['topic'],
          registers: [registry],
        }),
    ),
  };
}
