/**
 * Tracing across the services (README, "Operations"): the trace an ingest request starts runs on
 * through Kafka record headers and the outboxes to every record it causes, and with
 * OTEL_EXPORTER_OTLP_ENDPOINT set the spans reach an OTLP collector (here a tiny HTTP receiver).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConsumptionEvent, EntitlementChanged, ScoreChanged, TierChanged } from '@taobi/contracts';
import { developmentIngestKey } from '@taobi/platform';
import { type ReadRecord, TestStack, TopicReader, uniqueId, waitFor } from '../support';
import { order, orderBody } from './e2e-kit';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

function traceOf(traceparent: string | null | undefined): { traceId: string; spanId: string } {
  const match = TRACEPARENT.exec(traceparent ?? '');
  if (!match) throw new Error(`not a W3C traceparent: ${traceparent}`);
  return { traceId: match[1] as string, spanId: match[2] as string };
}

/** POSTs one order to ingest-ecommerce; returns the 202's traceparent. */
async function postOrder(stack: TestStack, memberId: string, yuan: number): Promise<string> {
  const response = await fetch(`${stack.url('ingest-ecommerce')}/v1/events`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${developmentIngestKey('ecommerce')}`,
    },
    body: JSON.stringify(orderBody(order(memberId, 'ecommerce', 'physical', yuan))),
  });
  expect(response.status).toBe(202);
  return response.headers.get('traceparent') ?? '';
}

describe('tracing across the services', () => {
  it('when an ingest request is accepted, then its trace id is on the consumption record and on the score-changed, tier-changed and entitlement-changed records it caused', async () => {
    const stack = await TestStack.start({ services: ['ingest-ecommerce', 'scoring', 'tier', 'entitlement'] });
    const readers = await Promise.all([
      TopicReader.start<ConsumptionEvent>(stack.topics.consumption),
      TopicReader.start<ScoreChanged>(stack.topics.scoreChanged),
      TopicReader.start<TierChanged>(stack.topics.tierChanged),
      TopicReader.start<EntitlementChanged>(stack.topics.entitlementChanged),
    ]);
    try {
      const memberId = uniqueId('m-trace');
      // 5,000 yuan moves a new member above Bronze: a tier change with status benefits granted.
      const traceparent = await postOrder(stack, memberId, 5000);
      const request = traceOf(traceparent);
      // Nothing is exported without OTEL_EXPORTER_OTLP_ENDPOINT: the spans are not sampled, but the
      // trace context travels all the same.
      expect(traceparent.endsWith('-00')).toBe(true);

      const [consumption, scores, tiers, entitlements] = (await Promise.all(
        readers.map((reader) =>
          reader.waitForCount(1, (r) => (r.value as { memberId?: string }).memberId === memberId, 120_000),
        ),
      )) as ReadRecord[][];
      const hops = {
        consumption: consumption ?? [],
        'score-changed': scores ?? [],
        'tier-changed': tiers ?? [],
        'entitlement-changed': entitlements ?? [],
      };
      for (const [topic, records] of Object.entries(hops)) {
        for (const record of records) {
          expect([topic, traceOf(record.headers.traceparent).traceId]).toEqual([topic, request.traceId]);
        }
      }
      // Each hop is a span of its own under the request's (a continued trace, not a copied header).
      const spanIds = Object.values(hops).map((records) => traceOf(records[0]?.headers.traceparent).spanId);
      expect(new Set([request.spanId, ...spanIds]).size).toBe(spanIds.length + 1);
    } finally {
      await Promise.all(readers.map((reader) => reader.close()));
      await stack.stop();
    }
  }, 360_000);

  describe('with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
    interface Export {
      path: string;
      contentType: string;
      body: Buffer;
    }
    const exports: Export[] = [];
    let receiver: Server;
    let stack: TestStack;

    beforeAll(async () => {
      receiver = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          exports.push({
            path: request.url ?? '',
            contentType: request.headers['content-type'] ?? '',
            body: Buffer.concat(chunks),
          });
          // An empty ExportTraceServiceResponse: everything accepted.
          response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      const { port } = receiver.address() as AddressInfo;
      stack = await TestStack.start({
        services: ['ingest-ecommerce', 'scoring'],
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_BSP_SCHEDULE_DELAY: '200' },
      });
    }, 180_000);

    afterAll(async () => {
      await stack?.stop();
      await new Promise((resolve) => receiver?.close(resolve));
    });

    it('when an event is ingested and scored, then the spans of both services arrive at the collector as OTLP http/protobuf, in the request trace', async () => {
      const traceparent = await postOrder(stack, uniqueId('m-otlp'), 300);
      expect(traceparent.endsWith('-01')).toBe(true);
      const traceId = Buffer.from(traceOf(traceparent).traceId, 'hex');
      const inTrace = (service: string) =>
        exports.filter((e) => e.body.includes(traceId) && e.body.includes(Buffer.from(service)));

      await waitFor(() => inTrace('ingest-ecommerce').length > 0 && inTrace('scoring').length > 0, {
        timeoutMs: 60_000,
        description: `spans of trace ${traceOf(traceparent).traceId} from ingest-ecommerce and scoring`,
      });
      for (const e of exports) {
        expect(e.path).toBe('/v1/traces');
        expect(e.contentType).toBe('application/x-protobuf');
      }
      const ingest = Buffer.concat(inTrace('ingest-ecommerce').map((e) => e.body));
      expect(ingest.includes('POST /v1/events')).toBe(true);
      expect(ingest.includes(`send ${stack.topics.consumption}`)).toBe(true);
      const scoring = Buffer.concat(inTrace('scoring').map((e) => e.body));
      expect(scoring.includes(`process ${stack.topics.consumption}`)).toBe(true);
      // The batch's Postgres work is in the batch span's trace (linked to the record's span).
      await waitFor(() => exports.some((e) => e.body.includes('scoring') && e.body.includes('postgresql')), {
        description: "scoring's Postgres spans",
      });
    }, 120_000);
  });
});
