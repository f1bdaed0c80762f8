import { deleteTopicUnderConsumer } from '@taobi/tests';
import { Harness } from './harness';

describe('an entitlement consumer that kafkajs gives up on', () => {
  it('when its topic is deleted under it, then /readyz answers 503 naming it dead and the fatal path runs', async () => {
    const h = await Harness.start({ env: { KAFKA_CONSUMER_RETRIES: '1' } });
    try {
      const consumer = `consumer:${h.config.KAFKA_GROUP_ID}`;
      const death = await deleteTopicUnderConsumer(h.service.app, h.kafka, h.topics.tierChanged);
      expect(death.readyz.checks[consumer]).toMatch(/^dead: /);
      expect(death.fatal.map((f) => f.component)).toEqual([consumer]);
    } finally {
      await h.close();
    }
  });
});
