import type { Source } from '@taobi/contracts';
import { fetchUnlessBusy, sleep } from '@taobi/platform';
import type { SimulatedEvent } from './model';

export interface IngestEndpoint {
  /** Base URL of the source's ingest service, e.g. http://127.0.0.1:8082 */
  url: string;
  key: string;
}

export interface PostOptions {
  endpoints: Record<Source, IngestEndpoint>;
  /** Events per POST (at most 500, the API's limit). */
  batchSize: number;
  /** POSTs in flight at once. */
  concurrency: number;
  /** Cap on events per second; unlimited when absent. */
  ratePerSecond?: number;
  /** Stop taking new batches after this many seconds. */
  durationSeconds?: number;
  /** Called about once a second, and once at the end. */
  onProgress?: (progress: PostProgress) => void;
}

export interface PostProgress {
  total: number;
  accepted: number;
  rejected: number;
  retries: number;
  elapsedMs: number;
}

export interface PostResult extends PostProgress {
  /** When the 202 for each accepted eventId came back (epoch ms). */
  acceptedAt: Map<string, number>;
  /** The first few rejections, as the API answered them. */
  rejections: string[];
}

interface Batch {
  source: Source;
  events: SimulatedEvent[];
}

/** Splits time-ordered events into per-source batches, keeping each source's order. */
export function toBatches(events: readonly SimulatedEvent[], batchSize: number): Batch[] {
  const batches: Batch[] = [];
  const open = new Map<Source, Batch>();
  for (const event of events) {
    let batch = open.get(event.source);
    if (!batch) {
      batch = { source: event.source, events: [] };
      open.set(event.source, batch);
      batches.push(batch);
    }
    batch.events.push(event);
    if (batch.events.length >= batchSize) open.delete(event.source);
  }
  return batches;
}

/**
 * Posts events through the real ingest APIs. 503 and 429 are retried after their Retry-After (the
 * eventIds are deterministic, so a retry never counts twice); other 4xx answers are counted as
 * rejected and the first few kept for the report.
 */
export async function postEvents(
  events: readonly SimulatedEvent[],
  options: PostOptions,
): Promise<PostResult> {
  const batches = toBatches(events, Math.min(options.batchSize, 500));
  const started = Date.now();
  const result: PostResult = {
    total: events.length,
    accepted: 0,
    rejected: 0,
    retries: 0,
    elapsedMs: 0,
    acceptedAt: new Map(),
    rejections: [],
  };
  const deadline = options.durationSeconds
    ? started + options.durationSeconds * 1000
    : Number.POSITIVE_INFINITY;
  let next = 0;
  let sentEvents = 0;

  const progress = () => {
    result.elapsedMs = Date.now() - started;
    options.onProgress?.({ ...result });
  };
  const ticker = setInterval(progress, 1000);

  async function throttle(count: number): Promise<void> {
    if (!options.ratePerSecond) return;
    sentEvents += count;
    const due = started + (sentEvents / options.ratePerSecond) * 1000;
    if (due > Date.now()) await sleep(due - Date.now());
  }

  async function post(batch: Batch): Promise<void> {
    const endpoint = options.endpoints[batch.source];
    if (!endpoint) throw new Error(`no ingest endpoint for the ${batch.source} source`);
    const body = JSON.stringify({ events: batch.events.map((e) => e.body) });
    const response = await fetchUnlessBusy(
      `${endpoint.url}/v1/events`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${endpoint.key}` },
        body,
      },
      {
        retryUnavailable: true,
        unreachableAttempts: 10,
        onRetry: () => {
          result.retries += 1;
        },
      },
    );
    if (response.status === 202) {
      const now = Date.now();
      const answer = (await response.json()) as { accepted: { eventId: string }[] };
      for (const { eventId } of answer.accepted) result.acceptedAt.set(eventId, now);
      result.accepted += answer.accepted.length;
      return;
    }
    result.rejected += batch.events.length;
    if (result.rejections.length < 5) {
      result.rejections.push(`${batch.source} ${response.status}: ${(await response.text()).slice(0, 500)}`);
    }
  }

  async function worker(): Promise<void> {
    while (next < batches.length && Date.now() < deadline) {
      const batch = batches[next++] as Batch;
      await throttle(batch.events.length);
      await post(batch);
    }
  }

  try {
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  } finally {
    clearInterval(ticker);
    progress();
  }
  return result;
}
