import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';

/**
 * Test topics are named `t-<base36 ms>-<run>-<hex>.<name>`: when they were made, and by which jest
 * run (`TAOBI_TEST_RUN`, set by the global setup), so that a run deletes its own topics at the end
 * without touching another run's on a shared broker, and topics an interrupted run left behind
 * can be told by their age. Without the cleanup a long-lived broker gathers thousands of
 * partitions, and creating topics on it slows down to the point of timing out.
 */
export function testTopicPrefix(): string {
  const run = process.env.TAOBI_TEST_RUN ?? 'adhoc';
  return `t-${Date.now().toString(36)}-${run}-${randomBytes(4).toString('hex')}.`;
}

// The run is optional: topics of runs before the run tag (`t-<ms>-<hex>.`) are cleaned up by age too.
const TEST_TOPIC = /^t-([0-9a-z]+)-(?:([0-9a-z]+)-)?[0-9a-f]{8}\./;

/** Deletes the test topics `select` picks (by creation time and run); returns how many. */
export async function deleteTestTopics(
  brokers: string[],
  select: (topic: { createdAt: number; run: string }) => boolean,
): Promise<number> {
  // kafkajs directly: the global setup and teardown run outside jest's module environment, where
  // the workspace packages' "source" export condition does not apply.
  const kafka = new Kafka({ clientId: 'taobi-test-cleanup', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const doomed = (await admin.listTopics()).filter((name) => {
      const match = TEST_TOPIC.exec(name);
      return match !== null && select({ createdAt: parseInt(match[1] as string, 36), run: match[2] ?? '' });
    });
    for (let i = 0; i < doomed.length; i += 100) {
      await admin.deleteTopics({ topics: doomed.slice(i, i + 100), timeout: 30_000 });
    }
    return doomed.length;
  } finally {
    await admin.disconnect();
  }
}
