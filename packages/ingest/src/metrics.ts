import { Counter, Histogram, type Registry } from '@taobi/platform';
import type { SendReport } from './batching-publisher';

export interface IngestMetrics {
  accepted(count: number): void;
  /** `reason` is the error code the client saw, e.g. VALIDATION_FAILED, UNAUTHORIZED. */
  rejected(reason: string, count: number): void;
  sent(report: SendReport): void;
}

/**
 * - `taobi_ingest_events_accepted_total{source}` / `taobi_ingest_events_rejected_total{source,reason}`:
 *   events, not requests (a rejected batch of 200 counts 200; an unreadable body counts 1);
 * - `taobi_ingest_publish_duration_seconds{outcome}`: one Kafka `sendBatch` until acknowledged;
 * - `taobi_ingest_publish_batch_records`: records per `sendBatch`, i.e. how well batching works.
 */
export function createIngestMetrics(registry: Registry, source: string): IngestMetrics {
  const accepted = new Counter({
    name: 'taobi_ingest_events_accepted_total',
    help: 'Events acknowledged by Kafka and answered 202',
    labelNames: ['source'],
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'taobi_ingest_events_rejected_total',
    help: 'Events answered with an error, by the error code',
    labelNames: ['source', 'reason'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'taobi_ingest_publish_duration_seconds',
    help: 'Duration of one Kafka sendBatch, until every replica acknowledged',
    labelNames: ['outcome'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const batchRecords = new Histogram({
    name: 'taobi_ingest_publish_batch_records',
    help: 'Records per Kafka sendBatch',
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000],
    registers: [registry],
  });
  // Labelled once: `labels()` hashes its values on every call, and this one is per request.
  const acceptedHere = accepted.labels(source);
  acceptedHere.inc(0);
  return {
    accepted: (count) => acceptedHere.inc(count),
    rejected: (reason, count) => rejected.labels(source, reason).inc(count),
    sent: (report) => {
      duration.labels(report.ok ? 'acknowledged' : 'failed').observe(report.seconds);
      batchRecords.observe(report.records);
    },
  };
}
