import type { Logger } from './logger';

export type CloseStep = readonly [name: string, close: () => Promise<unknown>];

/** Runs close steps in order; one failing step is logged and does not stop the others. */
export async function closeInOrder(logger: Logger, steps: readonly CloseStep[]): Promise<void> {
  for (const [name, close] of steps) {
    try {
      await close();
    } catch (error) {
      logger.warn({ err: error, step: name }, 'close step failed');
    }
  }
}

/**
 * On SIGTERM or SIGINT: stop taking work, finish the batch in hand, commit, close, exit 0.
 * If closing takes longer than `timeoutMs`, exit 1 so a supervisor knows it was not clean.
 */
export function onShutdownSignal(options: {
  logger: Logger;
  timeoutMs: number;
  close: () => Promise<void>;
  exit?: (code: number) => void;
}): void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let closing = false;
  const handler = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    options.logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      options.logger.error({ timeoutMs: options.timeoutMs }, 'shutdown timed out');
      exit(1);
    }, options.timeoutMs);
    timer.unref();
    options
      .close()
      .then(() => {
        options.logger.info('shut down cleanly');
        exit(0);
      })
      .catch((error: unknown) => {
        options.logger.error({ err: error }, 'shutdown failed');
        exit(1);
      });
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}
