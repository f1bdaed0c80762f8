import { deleteTopicUnderConsumer } from '@taobi/tests';
import { scoringSuite } from './harness';

describe('a scoring consumer that kafkajs gives up on', () => {
  const scoring = scoringSuite({ env: { KAFKA_CONSUMER_RETRIES: '1' } });

  it('when its topic is deleted under it, then /readyz answers 503 naming it dead and the fatal path runs', async () => {
    const consumer = `consumer:${scoring.stage.config.KAFKA_GROUP_ID}`;
    expect(
      (await scoring.service.app.inject({ method: 'GET', url: '/readyz' })).json().checks[consumer],
    ).toBe('ok');

    const death = await deleteTopicUnderConsumer(
      scoring.service.app,
      scoring.stage.kafka,
      scoring.stage.topics.consumption,
    );

    expect(death.readyz.status).toBe('not-ready');
    expect(death.readyz.checks[consumer]).toMatch(/^dead: /);
    expect(death.fatal.map((f) => f.component)).toEqual([consumer]);
  });
});
