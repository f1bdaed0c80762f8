import { ingestConfigSchema } from '@taobi/ingest';

/** ingest-food's configuration: the shared ingest variables (README, "Ingest API"), port 8082. */
export const configSchema = ingestConfigSchema(8082);

export type Config = typeof configSchema._output;
