import { ingestConfigSchema } from '@taobi/ingest';

/** ingest-ecommerce's configuration: the shared ingest variables (README, "Ingest API"), port 8081. */
export const configSchema = ingestConfigSchema(8081);

export type Config = typeof configSchema._output;
