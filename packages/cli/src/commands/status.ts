import { type Exposition, parsePrometheus, SERVICE_NAMES, type ServiceName, sumOf } from '@taobi/platform';
import type { Endpoints } from '../endpoints';

/** An outbox whose oldest unpublished record is older than this is stuck (the TaobiOutboxStuck alert). */
const OUTBOX_STUCK_SECONDS = 60;

export interface ServiceStatus {
  service: ServiceName;
  /** `ready`, `not-ready` (with the failing checks), or `down` (with why). */
  state: 'ready' | 'not-ready' | 'down';
  detail: string;
  /** Records not yet committed, by consumer group (summed over partitions); empty for a service without one. */
  lag: Record<string, number>;
  outbox?: { pending: number; oldestSeconds: number };
  deadLetters?: number;
}

async function fetchWithin(url: string): Promise<Response> {
  return fetch(url, { signal: AbortSignal.timeout(5000) });
}

function lagByGroup(metrics: Exposition): Record<string, number> {
  const lag: Record<string, number> = {};
  for (const s of metrics.series) {
    if (s.name !== 'taobi_kafka_consumer_lag') continue;
    const group = s.labels.group ?? '?';
    lag[group] = (lag[group] ?? 0) + s.value;
  }
  return lag;
}

/** One service's readiness (`/readyz`) and what its `/metrics` say about lag, outbox and DLQ. */
export async function serviceStatus(endpoints: Endpoints, service: ServiceName): Promise<ServiceStatus> {
  const base = endpoints.url(service);
  try {
    const readyz = await fetchWithin(`${base}/readyz`);
    const body = (await readyz.json()) as { status: string; checks: Record<string, string> };
    const failing = Object.entries(body.checks).filter(([, state]) => state !== 'ok');
    const metrics = parsePrometheus(await (await fetchWithin(`${base}/metrics`)).text());
    const pending = sumOf(metrics, 'taobi_outbox_pending_records');
    return {
      service,
      state: readyz.status === 200 ? 'ready' : 'not-ready',
      detail: failing.map(([name, state]) => `${name}: ${state}`).join('; '),
      lag: lagByGroup(metrics),
      ...(pending === undefined
        ? {}
        : {
            outbox: {
              pending,
              oldestSeconds: sumOf(metrics, 'taobi_outbox_oldest_pending_age_seconds') ?? 0,
            },
          }),
      ...(metrics.declared.has('taobi_dlq_letters_total')
        ? { deadLetters: sumOf(metrics, 'taobi_dlq_letters_total') ?? 0 }
        : {}),
    };
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause;
    return { service, state: 'down', detail: cause?.message ?? (error as Error).message, lag: {} };
  }
}

const COLUMNS = ['service', 'state', 'lag', 'outbox', 'dlq', 'detail'] as const;

/** The table `taobi status` prints: one line per service, `-` where a service has no such thing. */
export function formatStatus(statuses: readonly ServiceStatus[]): string {
  const rows = statuses.map((s) => {
    const groups = Object.entries(s.lag);
    const outbox = s.outbox
      ? `${s.outbox.pending} pending, oldest ${Math.round(s.outbox.oldestSeconds)} s${s.outbox.oldestSeconds > OUTBOX_STUCK_SECONDS ? ' STUCK' : ''}`
      : '-';
    return [
      s.service,
      s.state,
      groups.length > 0 ? groups.map(([group, lag]) => `${lag} (${group})`).join(', ') : '-',
      s.state === 'down' ? '?' : outbox,
      s.deadLetters === undefined ? (s.state === 'down' ? '?' : '-') : String(s.deadLetters),
      s.detail,
    ];
  });
  const widths = COLUMNS.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(COLUMNS), ...rows.map(line)].join('\n');
}

/**
 * `taobi status`: each service's readiness, its consumer lag (records not committed, by group), its
 * outbox (unpublished records and the oldest one's age) and the records it sent to the DLQ since it
 * started. Exit code 1, naming them, when a service is down or not ready.
 */
export async function status(
  endpoints: Endpoints,
  print: (text: string) => void = console.log,
): Promise<number> {
  const statuses = await Promise.all(SERVICE_NAMES.map((service) => serviceStatus(endpoints, service)));
  print(formatStatus(statuses));
  const unwell = statuses.filter((s) => s.state !== 'ready');
  if (unwell.length === 0) return 0;
  print(`\nnot ready: ${unwell.map((s) => `${s.service} (${s.state})`).join(', ')}`);
  return 1;
}
