import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { type BaseConfig, ConfigError, loadConfig } from './config';
import { createLogger, type Logger } from './logger';
import { boundAppClose, onShutdownSignal } from './shutdown';
import { withTimeout } from './timeout';
import { flushTraces } from './trace-context';

/** What a service's `app.ts` builds from its typed config: an app that does not listen yet. */
export interface Service {
  app: FastifyInstance;
  /**
   * What reads need before the app listens: migrations. Quick, unlike `start`; `start` runs it too
   * when it has not run (tests call only `start`).
   */
  prepare?(): Promise<unknown>;
  /**
   * Connects, and starts consumers, relays and schedules. It may take as long as a consumer group
   * join (a crashed predecessor's session timeout): `runService` serves requests meanwhile.
   */
  start(): Promise<void>;
  /**
   * Stops consumers (the batch in hand finishes and commits), relays, schedules; closes clients. The
   * services close their app here, whose `onClose` hooks (`closeOnAppClose`) do the rest; idempotent.
   */
  stop(): Promise<void>;
}

export interface RunServiceOptions<C extends BaseConfig & { PORT: number }> {
  name: string;
  schema: z.ZodType<C>;
  build: (config: C, logger: Logger) => Promise<Service> | Service;
  env?: Record<string, string | undefined>;
}

/** Runs `step` once; later calls share the first call's promise. */
export function once<T>(step: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () => {
    running ??= step();
    return running;
  };
}

/**
 * The whole of a service's `main.ts`: parse config once (exit 2 naming each bad variable), build,
 * prepare (migrations), listen, then start, and shut down cleanly on SIGTERM / SIGINT.
 *
 * It listens before starting so a restarted service serves reads from Postgres and Redis at once;
 * `/readyz` says `startup: starting` (and each consumer `joining`) until the start is done, while
 * `/healthz` answers. A failed start, or a component that dies for good later (a consumer kafkajs
 * gave up on), exits 1 so the supervisor restarts the process.
 */
export async function runService<C extends BaseConfig & { PORT: number }>(
  options: RunServiceOptions<C>,
): Promise<void> {
  let config: C;
  try {
    config = loadConfig(options.schema, options.env ?? process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${options.name}: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ name: options.name, level: config.LOG_LEVEL });
  let closing = false;
  try {
    const service = await options.build(config, logger);
    const { readiness } = service.app;
    readiness.onFatal((component, error) => {
      logger.fatal(
        { err: error, component },
        `${component} died; exiting so the supervisor restarts the service`,
      );
      process.exit(1);
    });
    readiness.set('startup', 'starting');
    await service.prepare?.();
    await service.app.listen({ port: config.PORT, host: config.HOST });
    onShutdownSignal({
      logger,
      timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      close: async () => {
        closing = true;
        // The close steps get two thirds of the deadline, the traces a sixth: a step that would
        // take longer is cut short by name (closeOnAppClose) rather than the whole exit timing out.
        boundAppClose(service.app, (config.SHUTDOWN_TIMEOUT_MS * 2) / 3);
        await service.app.close();
        await service.stop();
        // The spans of the last requests and batches, before the process exits.
        await withTimeout(flushTraces(), config.SHUTDOWN_TIMEOUT_MS / 6).catch((error: unknown) =>
          logger.warn({ err: error }, 'could not export traces'),
        );
      },
    });
    logger.info({ port: config.PORT, host: config.HOST }, `${options.name} listening`);
    await service.start();
    readiness.clear('startup');
    logger.info(`${options.name} started`);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${options.name}: ${error.message}\n`);
      process.exit(2);
    }
    // A start cut short by SIGTERM is the shutdown's to finish, not a failure.
    if (closing) return;
    logger.fatal({ err: error }, `${options.name} failed to start`);
    process.exit(1);
  }
}
