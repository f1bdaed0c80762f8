import { ingestConfigSchema } from '@taobi/ingest';

/** ingest-travel's configuration: the shared ingest variables (README, "Ingest API"), port 8083. */
export const configSchema = ingestConfigSchema(8083);

export type Config = typeof configSchema._output;
