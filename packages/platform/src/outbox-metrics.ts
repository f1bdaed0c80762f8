import type { Pool } from 'pg';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from './logger';
import { sharedMetric } from './metrics';

export interface OutboxMetrics {
  published: Counter<'topic'>;
  failures: Counter;
  recovered: Counter<'topic'>;
  /**
   * Reports a running relay's last completed round (ms since the epoch) in
   * `taobi_outbox_relay_last_success_timestamp_seconds`, until the function returned is called.
   */
  watchRelay(lastSuccess: () => number): () => void;
}

interface Backlog {
  pending: number;
  oldestSeconds: number;
}

const backlogSources = new WeakMap<Registry, Set<() => Promise<Backlog>>>();
const lastSuccessSources = new WeakMap<Registry, Set<() => number>>();

/**
 * - `taobi_outbox_published_total{topic}`, `taobi_outbox_publish_failures_total`: what the relay did;
 * - `taobi_outbox_recovered_total{topic}`: rows it found already on the topic when it checked
 *   before sending them again (after a failed send or taking over from another relay), and so
 *   marked published instead of sending twice;
 * - `taobi_outbox_pending_records`, `taobi_outbox_oldest_pending_age_seconds`: what it has still to
 *   do, read from the outbox table at scrape time (right across instances, and while the relay is
 *   stuck): unpublished rows, and how long ago the oldest of them was committed (0 when none);
 * - `taobi_outbox_relay_last_success_timestamp_seconds`: when the running relay (the stalest, if a
 *   process runs several) last completed a round, whatever it found to do; 0 while none runs. An
 *   idle relay completes one per poll, so a value minutes old means a relay stuck in a call or
 *   failing every round.
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
  const relays = lastSuccessSources.get(registry) ?? new Set();
  lastSuccessSources.set(registry, relays);
  sharedMetric(
    registry,
    'taobi_outbox_relay_last_success_timestamp_seconds',
    (name) =>
      new Gauge({
        name,
        help: 'When the outbox relay last completed a round (the stalest relay of the process)',
        registers: [registry],
        collect() {
          this.set(relays.size === 0 ? 0 : Math.min(...[...relays].map((read) => read())) / 1000);
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
    watchRelay(lastSuccess) {
      // A function of its own per call: one relay started twice is watched twice, unwatched once each.
      const read = () => lastSuccess();
      relays.add(read);
      return () => relays.delete(read);
    },
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
