import { deleteTestTopics } from './test-topics';

/** Deletes this run's test topics (every test process has ended), then stops what setup started. */
export default async function globalTeardown(): Promise<void> {
  const environment = globalThis.taobiTestEnvironment;
  const run = process.env.TAOBI_TEST_RUN;
  if (environment && run) {
    await deleteTestTopics(environment.kafkaBrokers, (topic) => topic.run === run);
  }
  await environment?.stop();
}
