import type { FastifyInstance } from 'fastify';
import type { Logger } from './logger';

/**
 * Closes what a service opened when its app closes, after the in-flight requests have finished.
 * Call it as each client is opened: fastify runs `onClose` hooks last registered first, so clients
 * close in the reverse order they were opened (consumers before the producer they dead-letter
 * through, everything before the pool). A failing step is logged and does not stop the others.
 * Hooks must be registered before the app is ready; a client opened later, in `start`, is
 * registered at build time through a closure (`() => consumer?.stop()`).
 */
export function closeOnAppClose(app: FastifyInstance, name: string, close: () => unknown): void {
  app.addHook('onClose', async () => {
    try {
      await close();
    } catch (error) {
      app.log.warn({ err: error, step: name }, 'close step failed');
    }
  });
}

/**
 * On SIGTERM or SIGINT: stop taking work, finish the batch in hand, commit, close, exit 0.
 * If closing takes longer than `timeoutMs`, exit 1 so a supervisor knows it was not clean.
 *
 * The same when the supervisor that started the process dies: a process started with an IPC
 * channel (`npm start`'s supervisor, the test kit) sees it close when its parent exits, even by
 * SIGKILL, and shuts down instead of living on as an orphan that holds its port.
 */
export function onShutdownSignal(options: {
  logger: Logger;
  timeoutMs: number;
  close: () => Promise<void>;
  exit?: (code: number) => void;
}): void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let closing = false;
  const handler = (signal: NodeJS.Signals | 'supervisor gone') => {
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
  if (process.connected) {
    process.once('disconnect', () => handler('supervisor gone'));
    // The channel only watches the supervisor: it does not keep the process alive.
    process.channel?.unref();
  }
}
