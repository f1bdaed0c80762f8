import { createIngestService, type IngestServiceOptions } from '@taobi/ingest';
import type { Logger, Service } from '@taobi/platform';
import type { Config } from './config';
import { mobilitySource } from './domain/source';

/** Builds ingest-mobility (does not listen): the shared ingest service over this source's definition. */
export function buildService(config: Config, logger: Logger, options: IngestServiceOptions = {}): Service {
  return createIngestService(mobilitySource, config, logger, options);
}
