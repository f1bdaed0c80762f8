import type { AddressInfo } from 'node:net';
import {
  type ConsumptionEvent,
  consumptionEventId,
  type ScoreChanged,
  scoreChangedSchema,
} from '@taobi/contracts';
import { createIngestService, defineIngestSource, ingestConfigSchema } from '@taobi/ingest';
import { ConfigError, developmentIngestKey, loadConfig, type Service } from '@taobi/platform';
import { DEFAULT_RULE_SET, foldScores, parseRuleSet, type RuleSet, type ScoreEvent } from '@taobi/rules';
import cinema from '../fixtures/cinema-source.json';
import {
  TestStack,
  TopicReader,
  testEndpoints,
  testLogger,
  uniqueId,
  waitFor,
  writeRuleSetFile,
} from '../support';

/**
 * A fifth business line added as data only: the fixture `tests/fixtures/cinema-source.json` is one
 * rule-set entry (its channels, categories and score rules) and one ingest source definition (its
 * title and examples). Nothing in packages/ or services/ names it. The real scoring service runs
 * as a process given the rule set with it (RULE_SET_FILE); the ingest service is the kit's factory
 * given the definition. Events go over HTTP, through the real broker, into Postgres and Redis.
 */
const withCinema: RuleSet = parseRuleSet({
  ...DEFAULT_RULE_SET,
  version: '2026.1-cinema-test',
  score: {
    ...DEFAULT_RULE_SET.score,
    sources: { ...DEFAULT_RULE_SET.score.sources, [cinema.source]: cinema.rules },
  },
});
const cinemaSource = defineIngestSource({ source: cinema.source, ...cinema.ingest });
const CINEMA_KEY = developmentIngestKey(cinema.source);

function ingestConfig(env: Record<string, string>) {
  return loadConfig(ingestConfigSchema(0), { KAFKA_BROKERS: testEndpoints().kafkaBrokers.join(','), ...env });
}

describe('a fifth source defined only as data', () => {
  const ruleSetFile = writeRuleSetFile(withCinema);
  let stack: TestStack;
  let ingest: Service;
  let ingestUrl: string;
  let consumption: TopicReader<ConsumptionEvent>;
  let scoreChanged: TopicReader<ScoreChanged>;

  beforeAll(async () => {
    stack = await TestStack.start({
      services: ['scoring'],
      env: { RULE_SET_FILE: ruleSetFile.path, EVALUATION_SCHEDULE_ENABLED: 'false' },
    });
    ingest = createIngestService(
      cinemaSource,
      ingestConfig({ KAFKA_TOPIC_PREFIX: stack.topicPrefix, RULE_SET_FILE: ruleSetFile.path }),
      testLogger('ingest-cinema'),
    );
    await ingest.start();
    await ingest.app.listen({ port: 0, host: '127.0.0.1' });
    ingestUrl = `http://127.0.0.1:${(ingest.app.server.address() as AddressInfo).port}`;
    consumption = await TopicReader.start<ConsumptionEvent>(stack.topics.consumption);
    scoreChanged = await TopicReader.start<ScoreChanged>(stack.topics.scoreChanged);
  });

  afterAll(async () => {
    await consumption?.close();
    await scoreChanged?.close();
    await ingest?.app.close();
    await ingest?.stop();
    await stack?.stop();
    ruleSetFile.remove();
  });

  const post = (body: unknown, key = CINEMA_KEY) =>
    fetch(`${ingestUrl}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    });

  it("when cinema orders and a refund are posted over HTTP, then scoring folds them by the fixture's rules into a cinema entry of the breakdown, in the API and the score-changed record", async () => {
    const memberId = uniqueId('m');
    const at = new Date(Date.now() - 60_000).toISOString();
    const screening = {
      type: 'order.completed',
      orderId: uniqueId('cin'),
      memberId,
      amount: 8_800,
      currency: 'CNY',
      channel: 'maoyan',
      category: 'screening',
      occurredAt: at,
    };
    const snack = {
      ...screening,
      orderId: uniqueId('cin'),
      amount: 4_500,
      channel: 'taopiaopiao',
      category: 'snack',
    };
    const refund = {
      type: 'order.refunded',
      orderId: screening.orderId,
      refundId: uniqueId('cin-rf'),
      memberId,
      amount: 3_000,
      currency: 'CNY',
      occurredAt: at,
    };

    const responses = [await post({ events: [screening, snack] }), await post(refund)];

    expect(responses.map((r) => r.status)).toEqual([202, 202]);
    const records = await consumption.waitForCount(3, (r) => r.value.memberId === memberId);
    expect(records.map((r) => [r.value.source, r.value.kind])).toEqual([
      ['cinema', 'completed'],
      ['cinema', 'completed'],
      ['cinema', 'refunded'],
    ]);
    expect(records[0]?.value.eventId).toBe(consumptionEventId('cinema', 'completed', screening.orderId));

    // Screening: 88 - 30 = 58 CNY net at 20 CNY a point = 2; snack: 45 CNY at 10 = 4 (cap 5); both
    // reach the 30 CNY minimum for a frequency point: 2. 300 + 8.
    const expected = { base: 300, ecommerce: 0, food: 0, travel: 0, mobility: 0, cinema: 8 };
    const reference = foldScores(
      withCinema.score,
      records.map((r) => r.value as ScoreEvent),
      '2000-01',
    ).get(memberId);
    expect(reference?.breakdown).toEqual(expected);

    const view = await waitFor(
      async () => {
        const response = await fetch(`${stack.url('scoring')}/v1/members/${memberId}/score`, {
          headers: { authorization: 'Bearer dev-read-key' },
        });
        const body = (await response.json()) as {
          score: number;
          breakdown: Record<string, number>;
          ruleVersion: string;
        };
        return body.score === 308 && body;
      },
      { timeoutMs: 30_000, description: `the score of ${memberId} to reach 308` },
    );
    expect(view.breakdown).toEqual(expected);
    expect(view.ruleVersion).toBe('2026.1-cinema-test');

    const [latest] = (
      await scoreChanged.waitForCount(1, (r) => r.value.memberId === memberId && r.value.score === 308)
    ).map((r) => r.value);
    expect(scoreChangedSchema.safeParse(latest).success).toBe(true);
    expect(latest?.breakdown).toEqual(expected);
  });

  it('when a cinema order names a channel of another source, or comes with another source’s key, then ingest refuses it from the data', async () => {
    const order = {
      type: 'order.completed',
      orderId: uniqueId('cin'),
      memberId: uniqueId('m'),
      amount: 5_000,
      currency: 'CNY',
      channel: 'tmall',
      category: 'screening',
      occurredAt: new Date(Date.now() - 60_000).toISOString(),
    };

    const wrongChannel = await post(order);
    const wrongKey = await post({ ...order, channel: 'maoyan' }, developmentIngestKey('food'));

    expect(wrongChannel.status).toBe(400);
    expect(((await wrongChannel.json()) as { error: { fields: { field: string }[] } }).error.fields).toEqual([
      expect.objectContaining({ field: 'channel' }),
    ]);
    expect(wrongKey.status).toBe(403);
  });

  it('when the rule set in force does not have the source, then its ingest service is refused at boot naming RULE_SET_FILE', () => {
    expect(() =>
      createIngestService(
        cinemaSource,
        ingestConfig({ INGEST_API_KEYS: `cinema:${CINEMA_KEY}` }),
        testLogger(),
      ),
    ).toThrow(
      new ConfigError([{ variable: 'RULE_SET_FILE', message: 'rule set 2026.1 has no source cinema' }]),
    );
  });
});
