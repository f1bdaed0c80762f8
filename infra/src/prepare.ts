/**
 * Makes the local infrastructure usable: the topics from packages/contracts and the `taobi`
 * database. Run by infra/bin/up.sh after the processes are up; safe to run any number of times.
 */
import { topicSpecs } from '@taobi/contracts';
import { alignTopicConfigs, createKafka, createLogger, ensureDatabase, ensureTopics } from '@taobi/platform';

async function main(): Promise<void> {
  const logger = createLogger({ name: 'infra', level: 'warn' });
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/taobi';
  const prefix = process.env.KAFKA_TOPIC_PREFIX ?? '';

  const kafka = createKafka({ brokers, clientId: 'taobi-infra', logger });
  const specs = topicSpecs(prefix);
  const created = await ensureTopics(kafka, specs);
  // An existing topic gets the configuration the contracts fix (the consumption topic's retention).
  const aligned = await alignTopicConfigs(kafka, specs);
  console.log(
    `[infra] topics ready${created.length ? ` (created ${created.join(', ')})` : ''}${
      aligned.length ? ` (configuration applied to ${aligned.join(', ')})` : ''
    }`,
  );

  const database = new URL(databaseUrl).pathname.slice(1);
  const createdDb = await ensureDatabase(databaseUrl, database);
  console.log(`[infra] database ${database} ready${createdDb ? ' (created)' : ''}`);
}

main().catch((error: unknown) => {
  console.error(`[infra] could not prepare the infrastructure: ${(error as Error).message}`);
  process.exit(1);
});
