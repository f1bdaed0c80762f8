import { ingestConfigSchema } from '@taobi/ingest';

/** ingest-mobility's configuration: the shared ingest variables (README, "Ingest API"), port 8084. */
export const configSchema = ingestConfigSchema(8084);

export type Config = typeof configSchema._output;
