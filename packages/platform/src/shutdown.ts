import type { FastifyInstance } from 'fastify';
import type { Logger } from './logger';
import { TimedOut, withTimeout } from './timeout';

/** When (ms since the epoch) each app's close steps must be done by (`boundAppClose`). */
const closeDeadlines = new WeakMap<FastifyInstance, number>();

/**
 * From now, `app`'s close steps share `withinMs`: a step still running once it is spent is cut
 * short (logged by name) and the next step runs. A cut step leaves undone what a crash would (an
 * uncommitted batch, an outbox lease left to lapse), which the next start picks up.
 */
export function boundAppClose(app: FastifyInstance, withinMs: number): void {
  closeDeadlines.set(app, Date.now() + withinMs);
}

/**
 * Closes what a service opened when its app closes, after the in-flight requests have finished.
 * Call it as each client is opened: fastify runs `onClose` hooks last registered first, so clients
 * close in the reverse order they were opened (consumers before the producer they dead-letter
 * through, everything before the pool). A failing step is logged and does not stop the others.
 * A step is cut short after `withinMs`, or once the app's close budget is spent (`boundAppClose`),
 * with a log line naming it. Hooks must be registered before the app is ready; a client opened
 * later, in `start`, is registered at build time through a closure (`() => consumer?.stop()`).
 */
export function closeOnAppClose(
  app: FastifyInstance,
  name: string,
  close: () => unknown,
  options: { withinMs?: number } = {},
): void {
  app.addHook('onClose', async () => {
    const deadline = closeDeadlines.get(app);
    const boundMs = Math.min(
      options.withinMs ?? Number.POSITIVE_INFINITY,
      deadline === undefined ? Number.POSITIVE_INFINITY : Math.max(0, deadline - Date.now()),
    );
    const closing = (async () => close())();
    try {
      await (Number.isFinite(boundMs) ? withTimeout(closing, boundMs) : closing);
    } catch (error) {
      if (!(error instanceof TimedOut)) {
        app.log.warn({ err: error, step: name }, 'close step failed');
        return;
      }
      app.log.warn(
        { step: name, withinMs: boundMs },
        'close step cut short: what it left undone is picked up on the next start',
      );
      closing.catch((late: unknown) => app.log.warn({ err: late, step: name }, 'close step failed'));
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
