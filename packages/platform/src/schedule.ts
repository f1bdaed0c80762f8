import type { Logger } from './logger';

/** setTimeout cannot wait longer than 2^31 - 1 ms (about 24.8 days); longer waits are re-armed. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export interface Schedule {
  /** When the next run is due. */
  readonly nextRunAt: Date;
  stop(): void;
}

/**
 * Runs `run(dueAt)` at each instant `nextRunAt` yields (e.g. the 8th at 00:00 Asia/Shanghai).
 * A failed run is logged and retried after `retryDelayMs`; runs never overlap. The job itself must
 * be idempotent and resumable: a restart may run it again for the same `dueAt`.
 */
export function scheduleRecurring(options: {
  name: string;
  logger: Logger;
  nextRunAt: (after: Date) => Date;
  run: (dueAt: Date) => Promise<unknown>;
  now?: () => Date;
  retryDelayMs?: number;
}): Schedule {
  const now = options.now ?? (() => new Date());
  const log = options.logger.child({ component: 'schedule', job: options.name });
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let due = options.nextRunAt(now());

  function arm(): void {
    if (stopped) return;
    const wait = Math.min(Math.max(due.getTime() - now().getTime(), 0), MAX_TIMEOUT_MS);
    timer = setTimeout(tick, wait);
    timer.unref();
  }

  async function tick(): Promise<void> {
    if (due.getTime() > now().getTime()) return arm();
    log.info({ dueAt: due.toISOString() }, 'scheduled run starting');
    try {
      await options.run(due);
      log.info({ dueAt: due.toISOString() }, 'scheduled run finished');
      due = options.nextRunAt(due);
    } catch (error) {
      log.error({ err: error, dueAt: due.toISOString() }, 'scheduled run failed; will retry');
      if (!stopped) {
        timer = setTimeout(tick, options.retryDelayMs ?? 60_000);
        timer.unref();
      }
      return;
    }
    arm();
  }

  arm();
  log.info({ nextRunAt: due.toISOString() }, 'scheduled');
  return {
    get nextRunAt() {
      return due;
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
