import { randomBytes } from 'node:crypto';
import {
  type PostProgress,
  type PostResult,
  postEvents,
  type SimulatedEvent,
  simulate,
} from '@taobi/loadgen';
import { lastEvaluationAt, type RuleSet, shanghaiDayStart, windowOf } from '@taobi/rules';
import type { Endpoints } from '../endpoints';
import { withStallDeadline } from '../stall';

export interface SimulateOptions {
  members: number;
  months: number;
  seed: number;
  batchSize: number;
  concurrency: number;
  rate?: number;
  duration?: number;
  runId?: string;
  quiet?: boolean;
  /** Fails, saying so, when no event was answered (accepted or rejected) for this long. */
  stallMs: number;
}

const MONTH_MS = 30.4375 * 86_400_000;

/**
 * Generates `members` synthetic members' spending over the last `months` months (at most 12: the
 * ingest APIs refuse events outside the scoring window) and posts it through the ingest APIs.
 */
export async function runSimulation(
  endpoints: Endpoints,
  rules: RuleSet,
  options: SimulateOptions,
): Promise<{ events: SimulatedEvent[]; result: PostResult; runId: string }> {
  const runId = options.runId ?? `sim${randomBytes(3).toString('hex')}`;
  const months = Math.min(Math.max(options.months, 0.1), 12);
  // Inside the scoring window the ingest APIs accept: from its first day (the 12 months kept by the
  // last evaluation, as the scoring rules define it) to a minute ago.
  const to = Date.now() - 60_000;
  const { dayOfMonth, windowMonths } = rules.evaluation;
  const windowStart = shanghaiDayStart(
    windowOf(lastEvaluationAt(new Date(to), dayOfMonth), windowMonths).from,
    1,
  );
  const from = Math.max(to - months * MONTH_MS, windowStart.getTime() + 3600_000);
  const events = simulate({ members: options.members, from, to, seed: options.seed, runId });
  const log = options.quiet ? () => undefined : (line: string) => console.log(line);
  log(
    `simulating ${options.members} members over ${months} months (seed ${options.seed}, run ${runId}): ` +
      `${events.length} events to post`,
  );
  let latest: PostProgress = { total: events.length, accepted: 0, rejected: 0, retries: 0, elapsedMs: 0 };
  const posting = postEvents(events, {
    endpoints: endpoints.ingest,
    batchSize: options.batchSize,
    concurrency: options.concurrency,
    ratePerSecond: options.rate,
    durationSeconds: options.duration,
    onProgress: (p) => {
      latest = p;
      const rate = p.elapsedMs > 0 ? Math.round(((p.accepted + p.rejected) * 1000) / p.elapsedMs) : 0;
      const done = p.total > 0 ? Math.round(((p.accepted + p.rejected) * 100) / p.total) : 100;
      log(
        `  ${done}%  accepted ${p.accepted}/${p.total}  rejected ${p.rejected}  retries ${p.retries}  ${rate} events/s`,
      );
    },
  });
  const result = await withStallDeadline(posting, {
    what: 'the ingest APIs to take the events',
    stallMs: options.stallMs,
    progress: () => latest.accepted + latest.rejected,
    stuck: () =>
      `${latest.accepted + latest.rejected} of ${latest.total} events answered, ${latest.retries} retries ` +
      '(ingest answering 503 or 429, or not at all: `pnpm taobi status`)',
  });
  for (const rejection of result.rejections) log(`  rejected: ${rejection}`);
  return { events, result, runId };
}
