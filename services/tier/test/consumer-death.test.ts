import { deleteTopicUnderConsumer } from '@taobi/tests';
import { createTierEnvironment, startTier, type TierEnvironment } from './harness';

describe('a tier consumer that kafkajs gives up on', () => {
  it('when its topic is deleted under it, then /readyz answers 503 naming it dead and the fatal path runs', async () => {
    const environment: TierEnvironment = await createTierEnvironment({ KAFKA_CONSUMER_RETRIES: '1' });
    const service = await startTier(environment);
    try {
      const consumer = `consumer:${environment.config.KAFKA_GROUP_ID}`;
      const death = await deleteTopicUnderConsumer(
        service.app,
        environment.kafka,
        environment.topics.scoreChanged,
      );
      expect(death.readyz.checks[consumer]).toMatch(/^dead: /);
      expect(death.fatal.map((f) => f.component)).toEqual([consumer]);
    } finally {
      await service.stop();
      await environment.close();
    }
  });
});
