import type { Admin, Kafka } from 'kafkajs';

/**
 * A readiness probe for Kafka: asks the cluster to describe itself through one long-lived admin
 * client, reconnecting after a failure. It never retries: `/readyz` wants an answer now.
 */
export function createKafkaProbe(kafka: Kafka): { check: () => Promise<void>; close: () => Promise<void> } {
  let admin: Admin | undefined;
  return {
    async check() {
      try {
        if (!admin) {
          admin = kafka.admin({ retry: { retries: 0 } });
          await admin.connect();
        }
        await admin.describeCluster();
      } catch (error) {
        const stale = admin;
        admin = undefined;
        await stale?.disconnect().catch(() => undefined);
        throw error;
      }
    },
    async close() {
      await admin?.disconnect().catch(() => undefined);
      admin = undefined;
    },
  };
}
