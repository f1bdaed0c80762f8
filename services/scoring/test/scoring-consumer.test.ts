import { type DeadLetter, scoreChangedSchema } from '@taobi/contracts';
import { withTransaction } from '@taobi/platform';
import { DEFAULT_RULE_SET, foldScores } from '@taobi/rules';
import { metricValue, TopicReader, uniqueId, waitFor } from '@taobi/tests';
import { createKnownLabels, labelsOf, pairLabel } from '../src/store/labels';
import { foldBatch } from '../src/store/ledger';
import {
  order,
  produce,
  READ,
  refund,
  scoreRecordsOf,
  scoringSuite,
  waitForDrained,
  waitForLedger,
  waitForOutboxPublished,
} from './harness';

describe('the scoring consumer against real Kafka, Postgres and Redis', () => {
  const scoring = scoringSuite();

  async function score(memberId: string) {
    const response = await scoring.service.app.inject({
      url: `/v1/members/${memberId}/score`,
      headers: READ,
    });
    expect(response.statusCode).toBe(200);
    return response.json();
  }

  it('when orders on every line and a refund are consumed, then the score and breakdown follow the rules', async () => {
    const member = uniqueId('m');
    const tmall = order({ memberId: member, amount: 12_800 });
    const events = [
      tmall,
      order({ memberId: member, source: 'food', amount: 3_500 }),
      order({ memberId: member, source: 'travel', category: 'flight', amount: 150_000 }),
      order({ memberId: member, source: 'mobility', amount: 4_200 }),
    ];
    await produce(scoring.stage, events);
    await waitForLedger(
      scoring.stage,
      events.map((e) => e.eventId),
    );
    // 128 CNY of physical goods: 3 points + 1 frequency; a 35 CNY meal: 0 + 1; a 1,500 CNY flight:
    // 12 + 2; a 42 CNY ride: 1 + 1.
    await waitFor(async () => (await score(member)).score === 321, { description: 'score 321' });

    const partial = refund(tmall, 5_000);
    await produce(scoring.stage, [partial]);
    const after = await waitFor(async () => {
      const body = await score(member);
      return body.score === 319 ? body : undefined;
    });
    expect(after.breakdown).toEqual({ base: 300, ecommerce: 2, food: 1, travel: 14, mobility: 2 });
    expect(after.ruleVersion).toBe(DEFAULT_RULE_SET.version);
    const reference = foldScores(DEFAULT_RULE_SET.score, [...events, partial], after.window.from).get(member);
    expect(after.breakdown).toEqual(reference?.breakdown);

    // One score-changed record per change, versions 1, 2, ... with stable ids, keyed by member.
    await scoring.stage.scoreChanged.waitForCount(1, (r) => r.key === member && r.value.score === 319);
    const records = scoreRecordsOf(scoring.stage, member);
    expect(records.map((r) => r.version)).toEqual(records.map((_, i) => i + 1));
    for (const record of records) {
      expect(scoreChangedSchema.safeParse(record).success).toBe(true);
      expect(record.eventId).toBe(`score:${member}:${record.version}`);
      expect(record.reason).toBe('consumption');
    }
    const last = records.at(-1);
    expect(last?.previousScore).toBe(321);
    expect(last?.causeEventIds).toEqual([partial.eventId]);
    // The refund is named as one, so tier can tell a refund's dip from any other.
    expect(last?.refundEventIds).toEqual([partial.eventId]);
    expect(records.slice(0, -1).every((r) => r.refundEventIds?.length === 0)).toBe(true);
    expect(last?.expiringAtNextEvaluation.evaluationAt).toMatch(/T16:00:00.000Z$/);
    expect(new Set(records.flatMap((r) => r.causeEventIds))).toEqual(
      new Set([...events, partial].map((e) => e.eventId)),
    );
  });

  it('when the same event is on the topic twice, then it counts once and publishes no extra change', async () => {
    const member = uniqueId('m');
    const first = order({ memberId: member, amount: 40_000 });
    const marker = order({ memberId: member, source: 'food', amount: 5_000 });
    await produce(scoring.stage, [first]);
    await waitForLedger(scoring.stage, [first.eventId]);
    await produce(scoring.stage, [first, { ...first, receivedAt: new Date().toISOString() }, marker]);
    await waitForLedger(scoring.stage, [first.eventId, marker.eventId]);
    // 400 CNY: 10 + 1; the marker meal: 1 + 1.
    const body = await waitFor(async () => ((await score(member)).score === 313 ? score(member) : undefined));
    expect(body.breakdown).toEqual({ base: 300, ecommerce: 11, food: 2, travel: 0, mobility: 0 });
    const { rows } = await scoring.stage.db.query(
      'SELECT count(*)::int AS n FROM scoring.orders WHERE member_id = $1',
      [member],
    );
    expect(rows[0].n).toBe(2);
    await scoring.stage.scoreChanged.waitForCount(2, (r) => r.key === member);
    await waitForDrained(scoring.stage);
    await waitForOutboxPublished(scoring.stage);
    expect(scoreRecordsOf(scoring.stage, member).map((r) => r.score)).toEqual([311, 313]);
  });

  it('when a refund arrives before its order, then the score ends the same as when it arrives after', async () => {
    const [early, late] = [uniqueId('m'), uniqueId('m')];
    const earlyOrder = order({ memberId: early, amount: 99_900 });
    const lateOrder = order({ memberId: late, amount: 99_900 });
    const earlyRefund = refund(earlyOrder, 60_000);
    await produce(scoring.stage, [earlyRefund]);
    await waitForLedger(scoring.stage, [earlyRefund.eventId]);
    const held = await scoring.service.app.inject({
      url: `/v1/members/${early}/score/history`,
      headers: READ,
    });
    expect(held.json().heldRefunds.map((r: { refundId: string }) => r.refundId)).toEqual([
      earlyRefund.refundId,
    ]);
    expect((await score(early)).score).toBe(300);

    await produce(scoring.stage, [earlyOrder, lateOrder]);
    await waitForLedger(scoring.stage, [earlyOrder.eventId, lateOrder.eventId]);
    await produce(scoring.stage, [refund(lateOrder, 60_000)]);
    // Net 399 CNY: 9 points + 1 frequency, for both.
    await waitFor(async () => (await score(late)).score === 310, { description: 'the late refund applied' });
    expect((await score(early)).score).toBe(310);
    expect((await score(early)).breakdown).toEqual((await score(late)).breakdown);
    const history = (
      await scoring.service.app.inject({ url: `/v1/members/${early}/score/history`, headers: READ })
    ).json();
    expect(history.heldRefunds).toEqual([]);
    expect(history.contributions[0]).toMatchObject({
      orderId: earlyOrder.orderId,
      refunded: 60_000,
      points: 9,
    });
    // The early member's scores: nothing for the held refund, then the net order once.
    await scoring.stage.scoreChanged.waitForCount(1, (r) => r.key === early);
    await waitForOutboxPublished(scoring.stage);
    expect(scoreRecordsOf(scoring.stage, early).map((r) => r.score)).toEqual([310]);
  });

  it('when records are invalid, name a source or channel the rule set does not have, or a refund names another member, then they go to the DLQ with the reason', async () => {
    const dlq = await TopicReader.start<DeadLetter>(scoring.stage.topics.consumptionDlq, scoring.stage.kafka);
    try {
      const [owner, other] = [uniqueId('m'), uniqueId('m')];
      const owned = order({ memberId: owner, amount: 20_000 });
      await produce(scoring.stage, [owned]);
      await waitForLedger(scoring.stage, [owned.eventId]);
      const foreign = { ...refund(owned, 20_000), memberId: other };
      const wrongId = { ...order({ memberId: other, amount: 10_000 }), eventId: 'made-up-id' };
      const future = order({ memberId: other, amount: 10_000, occurredAt: '2099-01-01T00:00:00+08:00' });
      const negative = { ...order({ memberId: other, amount: 10_000 }), amount: -5 };
      const unknownSource = order({
        memberId: other,
        amount: 10_000,
        source: 'cinema',
        channel: 'maoyan',
        category: 'screening',
      });
      const wrongChannel = order({ memberId: other, amount: 10_000, source: 'food', channel: 'tmall' });
      await produce(scoring.stage, [foreign, wrongId, future, negative, unknownSource, wrongChannel]);

      const letters = await dlq.waitForCount(6, (r) => r.value.memberId === other);
      expect(letters.map((l) => l.value.reason).sort()).toEqual([
        'channel tmall is not a food channel in rule set 2026.1',
        'eventId is not consumptionEventId(source, kind, orderId or refundId)',
        'occurredAt is in the future',
        'record does not match its schema',
        'refund names another member than its order',
        'source cinema is not in rule set 2026.1 (ecommerce, food, travel, mobility)',
      ]);
      expect(letters.find((l) => l.value.reason.startsWith('record'))?.value.errors[0]?.field).toBe('amount');
      const refundLetter = letters.find((l) => l.value.reason.startsWith('refund'))?.value;
      expect(JSON.parse(Buffer.from(refundLetter?.originalValue ?? '', 'base64').toString())).toEqual(
        foreign,
      );
      await waitForDrained(scoring.stage);
      expect((await score(owner)).score).toBe(306);
      expect((await score(other)).score).toBe(300);
      const { rows } = await scoring.stage.db.query(
        'SELECT count(*)::int AS n FROM scoring.refunds WHERE member_id = $1',
        [other],
      );
      expect(rows[0].n).toBe(0);
    } finally {
      await dlq.close();
    }
  });

  it('when an order or a refund is re-sent with its eventId but other fields, then the first is kept and the other is dead-lettered with both versions and counted', async () => {
    const dlq = await TopicReader.start<DeadLetter>(scoring.stage.topics.consumptionDlq, scoring.stage.kafka);
    try {
      const [member, other] = [uniqueId('m'), uniqueId('m')];
      const kept = order({ memberId: member, amount: 40_000 });
      const keptRefund = refund(kept, 10_000);
      await produce(scoring.stage, [kept, keptRefund]);
      await waitForLedger(scoring.stage, [kept.eventId, keptRefund.eventId]);
      const outcomes = async () => {
        const text = (await scoring.service.app.inject({ url: '/metrics' })).body;
        return {
          duplicate: metricValue(text, 'taobi_scoring_events_total', { outcome: 'duplicate' }) ?? 0,
          conflicting:
            metricValue(text, 'taobi_scoring_events_total', { outcome: 'conflicting-duplicate' }) ?? 0,
        };
      };
      const before = await outcomes();

      const resent = <T extends object>(event: T): T => ({ ...event, receivedAt: new Date().toISOString() });
      const fresh = order({ memberId: member, source: 'food', amount: 5_000 });
      const conflicts = [
        { ...resent(kept), amount: 90_000 },
        { ...resent(kept), memberId: other },
        { ...resent(keptRefund), amount: 20_000 },
        // Right behind its first version on the same partition: usually in the same batch.
        { ...resent(fresh), category: 'grocery' },
      ];
      // Exact copies (only receivedAt differs) stay silent duplicates.
      await produce(scoring.stage, [resent(kept), resent(keptRefund), fresh, ...conflicts]);
      await waitForLedger(scoring.stage, [kept.eventId, keptRefund.eventId, fresh.eventId]);
      await waitForDrained(scoring.stage);
      await dlq.waitUntilCaughtUp();

      const letters = dlq
        .matching((r) => [member, other].includes(r.value.memberId ?? ''))
        .map((r) => r.value);
      expect(letters.map((l) => l.reason)).toEqual(conflicts.map(() => 'conflicting-duplicate'));
      const byRefused = new Map(
        letters.map((l) => [Buffer.from(l.originalValue ?? '', 'base64').toString(), l]),
      );
      const expected = [
        { refused: conflicts[0], stored: kept, fields: ['amount'] },
        { refused: conflicts[1], stored: kept, fields: ['memberId'] },
        { refused: conflicts[2], stored: keptRefund, fields: ['amount'] },
        { refused: conflicts[3], stored: fresh, fields: ['category'] },
      ];
      for (const { refused, stored, fields } of expected) {
        const letter = byRefused.get(JSON.stringify(refused));
        // As the ledger keeps it: without its receivedAt.
        const { receivedAt: _, ...kept } = stored;
        expect(letter?.storedValue).toEqual(kept);
        expect(letter?.errors.map((e) => e.field)).toEqual(fields);
      }

      // The first versions count, nothing of the others: 400 CNY less 100 refunded, 7 + 1; the meal 1 + 1.
      expect(await score(member)).toMatchObject({
        score: 310,
        breakdown: { base: 300, ecommerce: 8, food: 2, travel: 0, mobility: 0 },
      });
      expect((await score(other)).score).toBe(300);
      const after = await outcomes();
      expect(after.conflicting - before.conflicting).toBe(4);
      expect(after.duplicate - before.duplicate).toBe(2);
    } finally {
      await dlq.close();
    }
  });

  it('when one batch holds two versions of an eventId, then the first is folded and the second refused naming it', async () => {
    const member = uniqueId('m');
    const first = order({ memberId: member, amount: 12_000 });
    const copy = { ...first, receivedAt: new Date().toISOString() };
    const second = { ...first, amount: 1_000_000 };
    const result = await withTransaction(scoring.stage.db, (client) =>
      foldBatch(client, [first, copy, second], { rules: DEFAULT_RULE_SET, now: new Date() }),
    );
    expect(result.inserted).toEqual([first.eventId]);
    expect(result.rejected).toEqual([
      {
        event: second,
        reason: 'conflicting-duplicate',
        errors: [{ field: 'amount', message: 'stored 12000, received 1000000' }],
        storedValue: (({ receivedAt: _, ...kept }) => kept)(first),
      },
    ]);
    expect(result.changes.map((c) => c.score)).toEqual([304]);
  });

  it('when one batch holds an order, its refund, a refund naming another member and a refund of an order already folded, then each counts as the reference fold says and no order row is updated', async () => {
    const [member, other] = [uniqueId('m'), uniqueId('m')];
    const context = { rules: DEFAULT_RULE_SET, now: new Date() };
    const earlier = order({ memberId: member, amount: 99_900 });
    await withTransaction(scoring.stage.db, (client) => foldBatch(client, [earlier], context));
    const fresh = order({ memberId: member, amount: 40_000 });
    const own = refund(fresh, 30_000);
    const foreign = { ...refund(fresh, 10_000), memberId: other };
    const late = refund(earlier, 60_000);
    const { result, counts } = await withTransaction(scoring.stage.db, async (client) => {
      const folded = await foldBatch(client, [own, foreign, late, fresh], context);
      // The order rows inserted and updated: a refund re-credits its order's points in the buckets
      // alone (an order's points are derived), so the order rows stay as written. (The view counts
      // this transaction's rows, and maybe the same backend's earlier ones not yet flushed.)
      const stats = await client.query<{ inserted: number; updated: number }>(
        `SELECT n_tup_ins::int AS inserted, n_tup_upd::int AS updated FROM pg_stat_xact_user_tables
         WHERE schemaname = 'scoring' AND relname = 'orders'`,
      );
      return { result: folded, counts: stats.rows[0] };
    });
    expect(counts?.inserted).toBeGreaterThanOrEqual(1);
    expect(counts?.updated).toBe(0);
    expect(result.inserted.sort()).toEqual([own.eventId, late.eventId, fresh.eventId].sort());
    expect(result.rejected).toEqual([
      { event: foreign, reason: 'refund names another member than its order' },
    ]);
    const expected = foldScores(
      DEFAULT_RULE_SET.score,
      [earlier, own, late, fresh],
      result.changes[0]?.window.from ?? '',
    ).get(member);
    expect(result.changes.map((c) => [c.score, c.breakdown])).toEqual([
      [expected?.score, expected?.breakdown],
    ]);
    const history = await scoring.service.app.inject({
      url: `/v1/members/${member}/score/history`,
      headers: READ,
    });
    const contributions = history.json().contributions as {
      orderId: string;
      points: number;
      qualifiesForFrequency: boolean;
    }[];
    // Net 399 CNY: 9 points; net 100 CNY: 2 points; both reach the 10 CNY frequency minimum.
    expect(
      contributions
        .map(({ orderId, points, qualifiesForFrequency }) => ({ orderId, points, qualifiesForFrequency }))
        .sort((a, b) => a.orderId.localeCompare(b.orderId)),
    ).toEqual(
      [
        { orderId: earlier.orderId, points: 9, qualifiesForFrequency: true },
        { orderId: fresh.orderId, points: 2, qualifiesForFrequency: true },
      ].sort((a, b) => a.orderId.localeCompare(b.orderId)),
    );
  });

  it('when two partitions fold batches with a label new to the ledger, then the second does not wait for the first to commit', async () => {
    const knownLabels = createKnownLabels();
    const channel = uniqueId('channel');
    const a = order({ memberId: uniqueId('m'), channel, amount: 12_000 });
    const b = order({ memberId: uniqueId('m'), channel, amount: 12_000 });
    const context = { rules: DEFAULT_RULE_SET, now: new Date(), knownLabels };
    const first = await scoring.stage.db.connect();
    try {
      // As the consumer does: the batch's new labels committed first, then its transaction.
      await knownLabels.commit(scoring.stage.db, labelsOf([a]));
      await first.query('BEGIN');
      expect((await foldBatch(first, [a], context)).inserted).toEqual([a.eventId]);
      // The first transaction is still open. Inserting the label in it would make the second wait
      // for its commit: a lock timeout fails the test instead of hanging it.
      await knownLabels.commit(scoring.stage.db, labelsOf([b]));
      const second = await withTransaction(scoring.stage.db, async (client) => {
        await client.query("SET LOCAL lock_timeout = '10s'");
        return foldBatch(client, [b], context);
      });
      expect(second.inserted).toEqual([b.eventId]);
      await first.query('COMMIT');
    } finally {
      first.release();
    }
    const { rows } = await scoring.stage.db.query(
      `SELECT o.order_id FROM scoring.orders o JOIN scoring.labels p ON p.code = o.channel_category_code
       WHERE p.label = $1 ORDER BY o.order_id`,
      [pairLabel(channel, 'physical')],
    );
    expect(rows.map((row) => row.order_id)).toEqual([a.orderId, b.orderId].sort());
  });

  it('when a random history arrives shuffled, duplicated and in several sends, then every score equals the reference fold', async () => {
    let state = 20261123;
    const random = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 2 ** 32;
    };
    const members = Array.from({ length: 5 }, () => uniqueId('m'));
    const sources = ['ecommerce', 'food', 'travel', 'mobility'] as const;
    const months = ['2025-12-20T12:00:00+08:00', '2026-04-01T09:00:00+08:00', '2026-11-02T18:00:00+08:00'];
    const events = [];
    for (let i = 0; i < 60; i += 1) {
      const placed = order({
        memberId: members[Math.floor(random() * members.length)] as string,
        source: sources[Math.floor(random() * sources.length)],
        amount: 100 + Math.floor(random() * 400_000),
        occurredAt: months[Math.floor(random() * months.length)],
      });
      events.push(placed);
      for (let r = 0; r < 2; r += 1) {
        if (random() < 0.3) events.push(refund(placed, 1 + Math.floor(random() * placed.amount * 0.8)));
      }
    }
    const replayed = [...events, ...events.filter(() => random() < 0.2)];
    const shuffled = replayed
      .map((event) => ({ event, at: random() }))
      .sort((a, b) => a.at - b.at)
      .map((x) => x.event);
    for (let i = 0; i < shuffled.length; i += 40) await produce(scoring.stage, shuffled.slice(i, i + 40));
    await waitForLedger(
      scoring.stage,
      events.map((e) => e.eventId),
    );
    await waitForDrained(scoring.stage);
    // Redis follows Postgres through the relay: read once it has caught up.
    await waitForOutboxPublished(scoring.stage);
    for (const member of members) {
      const body = await score(member);
      const expected = foldScores(DEFAULT_RULE_SET.score, events, body.window.from).get(member);
      expect({ member, breakdown: body.breakdown }).toEqual({
        member,
        breakdown: expected?.breakdown ?? { base: 300, ecommerce: 0, food: 0, travel: 0, mobility: 0 },
      });
    }
  });
});
