import type { ConsumptionEvent } from '@taobi/contracts';
import {
  createTestTopics,
  freePort,
  ingestOrder,
  ServiceProcess,
  TopicReader,
  testEndpoints,
} from '@taobi/tests';

const ENTRY = 'services/ingest-ecommerce/src/main.ts';

describe('ingest-ecommerce as a process', () => {
  it('when production is started with the development keys, then boot is refused with exit 2 naming INGEST_API_KEYS', async () => {
    const service = ServiceProcess.start(ENTRY, { TAOBI_ENV: 'production', PORT: String(await freePort()) });
    const { code } = await service.exited;
    expect(code).toBe(2);
    expect(service.output).toMatch(/INGEST_API_KEYS: development keys are refused in production/);
    expect(service.output).not.toMatch(/dev-ecommerce-key/);
  });

  it('when production has real keys, then it accepts events over HTTP, serves /openapi.json, never logs the key, and SIGTERM exits 0', async () => {
    const { prefix, topics } = await createTestTopics();
    const reader = await TopicReader.start<ConsumptionEvent>(topics.consumption);
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const key = 'prod-ecommerce-0123456789';
    const service = ServiceProcess.start(ENTRY, {
      TAOBI_ENV: 'production',
      PORT: String(port),
      LOG_LEVEL: 'debug',
      KAFKA_BROKERS: testEndpoints().kafkaBrokers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      INGEST_API_KEYS: `ecommerce:${key},food:prod-food-0123456789`,
    });
    try {
      await service.waitUntilListening(baseUrl);
      const order = ingestOrder({ channel: 'taobao', category: 'physical' });
      const response = await fetch(`${baseUrl}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify(order),
      });
      const wrongSource = await fetch(`${baseUrl}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer prod-food-0123456789' },
        body: JSON.stringify(order),
      });
      const openapi = await fetch(`${baseUrl}/openapi.json`);

      expect(response.status).toBe(202);
      expect(wrongSource.status).toBe(403);
      expect(openapi.status).toBe(200);
      expect(((await openapi.json()) as { info: { title: string } }).info.title).toBe(
        'Taobi ingest-ecommerce',
      );
      const [record] = await reader.waitForCount(1, (r) => r.value.orderId === order.orderId);
      expect(record?.value.source).toBe('ecommerce');

      const { code } = await service.stop('SIGTERM');
      expect(code).toBe(0);
      expect(service.output).toContain('shut down cleanly');
      expect(service.output).not.toContain(key);
      expect(service.output).not.toContain('prod-food-0123456789');
    } finally {
      await service.stop('SIGKILL');
      await reader.close();
    }
  });
});
