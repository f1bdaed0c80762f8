import type { Service } from '@taobi/platform';
import { deleteTopicUnderConsumer } from '@taobi/tests';
import { createStage, type Stage, startScoring } from './harness';

describe('a scoring consumer that kafkajs gives up on', () => {
  let stage: Stage;
  let service: Service;

  beforeAll(async () => {
    stage = await createStage({ KAFKA_CONSUMER_RETRIES: '1' });
    service = await startScoring(stage);
  });

  afterAll(async () => {
    await service?.stop();
    await stage?.close();
  });

  it('when its topic is deleted under it, then /readyz answers 503 naming it dead and the fatal path runs', async () => {
    const consumer = `consumer:${stage.config.KAFKA_GROUP_ID}`;
    expect((await service.app.inject({ method: 'GET', url: '/readyz' })).json().checks[consumer]).toBe('ok');

    const death = await deleteTopicUnderConsumer(service.app, stage.kafka, stage.topics.consumption);

    expect(death.readyz.status).toBe('not-ready');
    expect(death.readyz.checks[consumer]).toMatch(/^dead: /);
    expect(death.fatal.map((f) => f.component)).toEqual([consumer]);
  });
});
