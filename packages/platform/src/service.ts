import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { type BaseConfig, ConfigError, loadConfig } from './config';
import { createLogger, type Logger } from './logger';
import { onShutdownSignal } from './shutdown';

/** What a service's `app.ts` builds from its typed config: an app that does not listen yet. */
export interface Service {
  app: FastifyInstance;
  /** Migrates, connects, and starts consumers, relays and schedules. */
  start(): Promise<void>;
  /** Stops consumers (the batch in hand finishes and commits), relays, schedules; closes clients. */
  stop(): Promise<void>;
}

export interface RunServiceOptions<C extends BaseConfig & { PORT: number }> {
  name: string;
  schema: z.ZodType<C>;
  build: (config: C, logger: Logger) => Promise<Service> | Service;
  env?: Record<string, string | undefined>;
}

/**
 * The whole of a service's `main.ts`: parse config once (exit 2 naming each bad variable), build,
 * start, listen, and shut down cleanly on SIGTERM / SIGINT. A failed start exits 1 so the
 * supervisor restarts the process.
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
  try {
    const service = await options.build(config, logger);
    await service.start();
    await service.app.listen({ port: config.PORT, host: config.HOST });
    onShutdownSignal({
      logger,
      timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      close: async () => {
        await service.app.close();
        await service.stop();
      },
    });
    logger.info({ port: config.PORT, host: config.HOST }, `${options.name} listening`);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${options.name}: ${error.message}\n`);
      process.exit(2);
    }
    logger.fatal({ err: error }, `${options.name} failed to start`);
    process.exit(1);
  }
}
