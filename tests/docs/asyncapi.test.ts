import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser } from '@asyncapi/parser';
import { asyncApiDocument, CONSUMER_GROUPS, TOPICS } from '@taobi/contracts';

/**
 * docs/asyncapi.json: generated from packages/contracts by `pnpm contracts:json-schema`, valid
 * AsyncAPI 3.0 for @asyncapi/parser, and committed in step with the contracts.
 */
const PATH = join(__dirname, '..', '..', 'docs', 'asyncapi.json');
const committed = readFileSync(PATH, 'utf8');

describe('the AsyncAPI document of the topics', () => {
  it('when the contracts change, then the committed docs/asyncapi.json is regenerated too (pnpm contracts:json-schema)', () => {
    expect(JSON.parse(committed)).toEqual(asyncApiDocument());
  });

  it('when parsed by @asyncapi/parser, then it is valid AsyncAPI 3.0 with no error', async () => {
    const { document, diagnostics } = await new Parser().parse(committed);
    // Severity 0 is an error; warnings (1) and hints are style advice.
    expect(
      diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join('.')}: ${d.message}`),
    ).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
  });

  it('when read, then every topic has its partitions, key, headers and payload, its publishers and its consumer groups', async () => {
    const { document } = await new Parser().parse(committed);
    if (!document) throw new Error('not parsed');
    for (const topic of Object.values(TOPICS)) {
      const channel = document
        .channels()
        .all()
        .find((c) => c.address() === topic.name);
      expect([topic.name, channel?.bindings().get('kafka')?.value().partitions]).toEqual([
        topic.name,
        topic.partitions,
      ]);
      const message = channel?.messages().all()[0];
      expect([topic.name, message?.hasPayload(), message?.hasHeaders()]).toEqual([topic.name, true, true]);
      expect(message?.bindings().get('kafka')?.value().key).toBeDefined();
      const publishers = channel?.operations().filterBySend() ?? [];
      expect([topic.name, publishers.length > 0]).toEqual([topic.name, true]);
    }
    for (const { name, topic } of Object.values(CONSUMER_GROUPS)) {
      const channel = document
        .channels()
        .all()
        .find((c) => c.address() === TOPICS[topic].name);
      const groups = (channel?.operations().filterByReceive() ?? []).map(
        (operation) => operation.bindings().get('kafka')?.value().groupId?.enum?.[0],
      );
      expect([TOPICS[topic].name, groups]).toEqual([TOPICS[topic].name, expect.arrayContaining([name])]);
    }
  });
});
