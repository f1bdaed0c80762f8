import type { Service } from '@taobi/platform';
import type { Kafka } from 'kafkajs';
import { waitFor } from './kit';

/** What `/readyz` answered once the consumer was dead, and what the fatal listeners were told. */
export interface ConsumerDeath {
  readyz: { status: string; checks: Record<string, string> };
  fatal: { component: string; error: Error }[];
}

/**
 * Deletes the topic under a running service's consumer, the real way to make kafkajs give up: its
 * fetches fail until the retry budget (KAFKA_CONSUMER_RETRIES) is spent. Waits until `/readyz`
 * answers 503 with the consumer `dead`, and returns what the service's fatal listeners were told
 * (`runService` exits 1 on it; in-process there is no exit to see).
 */
export async function deleteTopicUnderConsumer(
  app: Service['app'],
  kafka: Kafka,
  topic: string,
): Promise<ConsumerDeath> {
  const fatal: ConsumerDeath['fatal'] = [];
  app.readiness.onFatal((component, error) => fatal.push({ component, error }));
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic] });
  } finally {
    await admin.disconnect();
  }
  const readyz = await waitFor(
    async () => {
      const response = await app.inject({ method: 'GET', url: '/readyz' });
      const body = response.json() as ConsumerDeath['readyz'];
      const dead = Object.entries(body.checks).some(
        ([name, state]) => name.startsWith('consumer:') && state.startsWith('dead'),
      );
      return response.statusCode === 503 && dead ? body : undefined;
    },
    { timeoutMs: 60_000, description: `the consumer of ${topic} to be reported dead` },
  );
  return { readyz, fatal };
}
