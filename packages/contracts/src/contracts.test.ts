import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  consumerGroups,
  consumptionEventId,
  consumptionEventSchema,
  deadLetterEventId,
  entitlementChangedSchema,
  isoTimeSchema,
  jsonSchemas,
  scoreChangedSchema,
  TOPICS,
  tierChangedSchema,
  topicNames,
  topicReferenceMarkdown,
  topicSpecs,
  uuidV5,
} from './index';

const completed = {
  eventId: consumptionEventId('ecommerce', 'completed', 'tb-1'),
  schemaVersion: 1,
  kind: 'completed',
  source: 'ecommerce',
  channel: 'tmall',
  category: 'physical',
  memberId: 'm-10001',
  orderId: 'tb-1',
  amount: 12800,
  currency: 'CNY',
  occurredAt: '2026-11-20T10:00:00+08:00',
  receivedAt: '2026-11-20T02:00:01.000Z',
};

describe('consumption events', () => {
  it('when the same order is identified twice, then the event id is the same', () => {
    expect(consumptionEventId('food', 'completed', 'o-1')).toBe(
      consumptionEventId('food', 'completed', 'o-1'),
    );
    expect(consumptionEventId('food', 'completed', 'o-1')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('when an id is computed, then it is the RFC 4122 version 5 UUID, the same as ever', () => {
    // Python's uuid.uuid5(uuid.NAMESPACE_DNS, 'www.example.com').
    expect(uuidV5(Buffer.from('6ba7b8109dad11d180b400c04fd430c8', 'hex'), ['www.example.com'])).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
    // Ids already on the topic and in the stores: they must never change.
    expect(consumptionEventId('food', 'completed', 'o-1')).toBe('ac60a982-1af4-5bed-a990-1440658f131b');
    expect(consumptionEventId('ecommerce', 'refunded', 'rf-😀-1')).toBe(
      '32822650-14bc-5e0a-8b41-4cebaef31d08',
    );
  });

  it('when source, kind or id differ, then the event ids differ', () => {
    const ids = new Set([
      consumptionEventId('food', 'completed', 'o-1'),
      consumptionEventId('travel', 'completed', 'o-1'),
      consumptionEventId('food', 'refunded', 'o-1'),
      consumptionEventId('food', 'completed', 'o-2'),
    ]);
    expect(ids.size).toBe(4);
  });

  it('when a canonical order arrives, then it parses', () => {
    expect(consumptionEventSchema.safeParse(completed).success).toBe(true);
  });

  it('when a source no contract names arrives well-formed, then it parses: which sources exist is the rule set', () => {
    const cinema = { ...completed, source: 'cinema', channel: 'maoyan', category: 'screening' };
    expect(consumptionEventSchema.safeParse(cinema).success).toBe(true);
  });

  it('when source, channel or category is not a kebab-case name, then that field is named as invalid', () => {
    const result = consumptionEventSchema.safeParse({
      ...completed,
      source: 'E-Commerce',
      channel: 'tmall mall',
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(['source', 'channel']);
  });

  it('when a refund has no refundId, then it is invalid', () => {
    const refund = { ...completed, kind: 'refunded', channel: undefined, category: undefined };
    expect(consumptionEventSchema.safeParse(refund).success).toBe(false);
    expect(consumptionEventSchema.safeParse({ ...refund, refundId: 'rf-1' }).success).toBe(true);
  });

  it.each([
    ['amount', 0],
    ['amount', -5],
    ['amount', 1.5],
    ['amount', 1_000_000_001],
    ['currency', 'USD'],
    ['memberId', 'has space'],
    ['occurredAt', '2026-11-20 10:00'],
  ])('when %s is %p, then it is rejected', (field, value) => {
    const result = consumptionEventSchema.safeParse({ ...completed, [field]: value });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual([field]);
  });
});

describe('derived records', () => {
  it('when a tier-changed record names a tier that does not exist, then it is invalid', () => {
    const record = {
      eventId: 'tier:m-1:3',
      schemaVersion: 1,
      memberId: 'm-1',
      occurredAt: '2026-11-20T02:00:01.000Z',
      previousTier: 'GOLD',
      tier: 'PLATINUM',
      direction: 'up',
      score: 1000,
      scoreVersion: 3,
      reason: 'score-increase',
    };
    expect(tierChangedSchema.safeParse(record).success).toBe(true);
    expect(tierChangedSchema.safeParse({ ...record, tier: 'TITANIUM' }).success).toBe(false);
  });

  it('when a tier-changed record is a first assignment, then it has no previous tier, and only then', () => {
    const initial = {
      eventId: 'tier:m-1:score:1',
      schemaVersion: 1,
      memberId: 'm-1',
      occurredAt: '2026-11-20T02:00:01.000Z',
      previousTier: null,
      tier: 'BRONZE',
      direction: 'initial',
      score: 300,
      scoreVersion: 1,
      reason: 'first-score',
    };
    expect(tierChangedSchema.safeParse(initial).success).toBe(true);
    expect(tierChangedSchema.safeParse({ ...initial, previousTier: 'BRONZE' }).success).toBe(false);
    expect(tierChangedSchema.safeParse({ ...initial, direction: 'up' }).success).toBe(false);
  });

  it('when an entitlement-changed record has no member, then it is an offer published or withdrawn, keyed by its merchant', () => {
    const published = {
      eventId: 'ent-1',
      schemaVersion: 1,
      memberId: null,
      occurredAt: '2026-11-20T02:00:01.000Z',
      benefitId: '1b4e28ba-2fa1-41d2-883f-0016d3cca427',
      benefitKind: 'offer',
      action: 'published',
      tier: null,
      period: null,
      merchantId: 'dev-merchant',
      details: {},
    };
    expect(entitlementChangedSchema.safeParse(published).success).toBe(true);
    expect(entitlementChangedSchema.safeParse({ ...published, action: 'granted' }).success).toBe(false);
    expect(entitlementChangedSchema.safeParse({ ...published, tier: 'GOLD' }).success).toBe(false);
    const redeemed = { ...published, memberId: 'm-1', tier: 'GOLD', action: 'redeemed' };
    expect(entitlementChangedSchema.safeParse(redeemed).success).toBe(true);
    expect(entitlementChangedSchema.safeParse({ ...redeemed, memberId: null }).success).toBe(false);
  });

  const scoreRecord = {
    eventId: 'score:m-1:1',
    schemaVersion: 1,
    memberId: 'm-1',
    occurredAt: '2026-11-20T02:00:01.000Z',
    version: 1,
    previousScore: 300,
    score: 320,
    breakdown: { base: 300, ecommerce: 20, food: 0, travel: 0, mobility: 0 },
    reason: 'consumption',
    causeEventIds: ['e-1'],
    ruleVersion: '2026.1',
    window: { from: '2025-12', to: '2026-11' },
    expiringAtNextEvaluation: { points: 0, evaluationAt: '2026-12-07T16:00:00.000Z' },
  };

  it('when a score-changed record has a negative bucket, then it is invalid', () => {
    const record = scoreRecord;
    expect(scoreChangedSchema.safeParse(record).success).toBe(true);
    const bad = { ...record, breakdown: { ...record.breakdown, food: -1 } };
    expect(scoreChangedSchema.safeParse(bad).success).toBe(false);
  });

  it('when a score-changed record carries points per month (added to v1), then it is valid, and without them too; a month without points or of another shape is not', () => {
    const months = [
      { month: '2026-03', points: 101 },
      { month: '2026-04', points: 303 },
    ];
    expect(scoreChangedSchema.safeParse({ ...scoreRecord, pointsByMonth: months }).success).toBe(true);
    expect(
      scoreChangedSchema.safeParse({ ...scoreRecord, pointsByMonth: [{ month: '2026-3', points: 1 }] })
        .success,
    ).toBe(false);
    expect(
      scoreChangedSchema.safeParse({ ...scoreRecord, pointsByMonth: [{ month: '2026-03', points: 0 }] })
        .success,
    ).toBe(false);
  });

  it('when a tier-changed record carries its decision (added to v1), then it is valid, and without it too; a decision missing a field is not', () => {
    const record = {
      eventId: 'tier:m-1:evaluation:2027-03-07T16:00:00.000Z',
      schemaVersion: 1,
      memberId: 'm-1',
      occurredAt: '2027-03-07T16:00:00.000Z',
      previousTier: 'GOLD',
      tier: 'SILVER',
      direction: 'down',
      score: 603,
      scoreVersion: 3,
      reason: 'monthly-evaluation',
    };
    const decision = {
      at: '2027-03-07T16:00:00.000Z',
      from: 'GOLD',
      to: 'SILVER',
      direction: 'down',
      reason: 'monthly-evaluation',
      score: 603,
      scoreVersion: 3,
      threshold: 700,
      ruleVersion: '2026.1',
      evaluationAsOf: '2027-03-07T16:00:00.000Z',
      windowFrom: '2026-04',
      windowTo: '2027-03',
      expiredMonths: [{ month: '2026-03', points: 101 }],
    };
    expect(tierChangedSchema.safeParse(record).success).toBe(true);
    expect(tierChangedSchema.safeParse({ ...record, decision }).success).toBe(true);
    const { threshold: _threshold, ...withoutThreshold } = decision;
    expect(tierChangedSchema.safeParse({ ...record, decision: withoutThreshold }).success).toBe(false);
  });

  it('when a breakdown carries a further source, then it is valid; when it lacks one of the four of v1, then not', () => {
    const record = {
      ...scoreRecord,
      score: 332,
      breakdown: { base: 300, ecommerce: 20, food: 0, travel: 0, mobility: 0, cinema: 12 },
    };
    expect(scoreChangedSchema.safeParse(record).success).toBe(true);
    expect(
      scoreChangedSchema.safeParse({ ...record, breakdown: { ...record.breakdown, cinema: -1 } }).success,
    ).toBe(false);
    const { mobility: _dropped, ...withoutMobility } = record.breakdown;
    expect(scoreChangedSchema.safeParse({ ...record, breakdown: withoutMobility }).success).toBe(false);
  });
});

describe('instants', () => {
  it('when an instant falls outside years 0001-9999 in UTC, then it is refused with one issue; the bounds are accepted', () => {
    for (const outside of ['0001-01-01T00:00:00+14:00', '0000-06-01T00:00:00Z']) {
      const result = isoTimeSchema.safeParse(outside);
      expect(result.error?.issues.map((i) => i.message)).toEqual([
        'must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z',
      ]);
    }
    expect(isoTimeSchema.safeParse('yesterday').error?.issues).toHaveLength(1);
    for (const inside of ['0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '2026-11-29T12:00:00+08:00']) {
      expect(isoTimeSchema.safeParse(inside).success).toBe(true);
    }
  });
});

describe('dead-letter ids', () => {
  const origin = { topic: 'taobi.consumption.v1', partition: 2, offset: '41' };

  it('when one group letters the same record twice, then the id is the same version-5 UUID', () => {
    expect(deadLetterEventId('taobi-scoring', origin)).toBe(
      deadLetterEventId('taobi-scoring', { ...origin }),
    );
    expect(deadLetterEventId('taobi-scoring', origin)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('when the group, topic, partition or offset differ, then the ids differ', () => {
    const ids = new Set([
      deadLetterEventId('taobi-scoring', origin),
      deadLetterEventId('taobi-tier', origin),
      deadLetterEventId('taobi-scoring', { ...origin, topic: 'taobi.score-changed.v1' }),
      deadLetterEventId('taobi-scoring', { ...origin, partition: 24 }),
      deadLetterEventId('taobi-scoring', { ...origin, offset: '1' }),
    ]);
    expect(ids.size).toBe(5);
  });
});

describe('topics', () => {
  it('when a prefix is given, then every topic carries it and keeps its partitions', () => {
    const names = topicNames('x.');
    expect(names.consumption).toBe('x.taobi.consumption.v1');
    expect(topicSpecs('x.')).toContainEqual({
      topic: 'x.taobi.tier-changed.v1',
      numPartitions: 6,
      configEntries: [],
    });
    expect(Object.keys(names)).toEqual(Object.keys(TOPICS));
  });

  it('when the consumption topic is specified, then it keeps records 400 days: the 12-month window plus a margin for replay', () => {
    const consumption = topicSpecs('x.').find((t) => t.topic === 'x.taobi.consumption.v1');
    expect(consumption?.configEntries).toEqual([{ name: 'retention.ms', value: String(400 * 86_400_000) }]);
  });

  it('when a prefix is given, then each consuming service has its group under it, with the topic it consumes', () => {
    expect(consumerGroups('rehearsal.')).toEqual([
      { service: 'scoring', groupId: 'rehearsal.taobi-scoring', topic: 'rehearsal.taobi.consumption.v1' },
      { service: 'tier', groupId: 'rehearsal.taobi-tier', topic: 'rehearsal.taobi.score-changed.v1' },
      {
        service: 'entitlement',
        groupId: 'rehearsal.taobi-entitlement',
        topic: 'rehearsal.taobi.tier-changed.v1',
      },
    ]);
    expect(consumerGroups().map((g) => g.groupId)).toEqual([
      'taobi-scoring',
      'taobi-tier',
      'taobi-entitlement',
    ]);
  });
});

describe('the README topic table', () => {
  it('when a topic changes in the contracts, then the README table is regenerated too (pnpm contracts:json-schema)', () => {
    const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    const region = /<!-- topics:start -->\n([\s\S]*?)\n<!-- topics:end -->/.exec(readme)?.[1] ?? '';
    // The formatter pads table cells; compare cell by cell.
    const cells = (table: string) =>
      table.split('\n').map((line) =>
        line
          .split('|')
          .map((cell) => cell.trim().replace(/^(:?)-+(:?)$/, '$1---$2'))
          .join('|'),
      );
    expect(cells(region)).toEqual(cells(topicReferenceMarkdown()));
  });
});

describe('JSON Schema files', () => {
  it('when the zod schemas change, then the committed JSON Schema files are regenerated too', () => {
    for (const [file, schema] of Object.entries(jsonSchemas())) {
      const committed = readFileSync(join(__dirname, '..', 'json-schema', file), 'utf8');
      expect(JSON.parse(committed)).toEqual(schema);
    }
  });
});
