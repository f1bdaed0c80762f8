/**
 * The whole programme, end to end: every service as a real process, driven only the way platform
 * teams and downstream apps use it — POSTs to the four ingest APIs, the read and admin APIs, and
 * consumers of the tier-changed and entitlement-changed topics.
 */
import { DEFAULT_CATALOGUE, planTierChange, welcomeGift } from '@taobi/benefits';
import type { EntitlementChanged, Tier, TierChanged } from '@taobi/contracts';
import { DEFAULT_RULE_SET, foldScores, nextEvaluationAt, type ScoreEvent, tierForScore } from '@taobi/rules';
import { type ReadRecord, ServiceProcess, TestStack, TopicReader, uniqueId, waitFor } from '../support';
import { Client, type Order, order, refundBody, refundEvent, scoreEvent } from './e2e-kit';

const rules = DEFAULT_RULE_SET;

describe('the Taobi programme end to end (all services, HTTP and Kafka only)', () => {
  let stack: TestStack;
  let client: Client;
  let tierChanges: TopicReader<TierChanged>;
  let entitlementChanges: TopicReader<EntitlementChanged>;

  beforeAll(async () => {
    stack = await TestStack.start();
    client = new Client(stack);
    tierChanges = await TopicReader.start<TierChanged>(stack.topics.tierChanged);
    entitlementChanges = await TopicReader.start<EntitlementChanged>(stack.topics.entitlementChanged);
  }, 180_000);

  afterAll(async () => {
    await tierChanges?.close();
    await entitlementChanges?.close();
    await stack?.stop();
  });

  /** Waits until the score API shows what the pure rules compute from everything posted. */
  async function expectScore(memberId: string, posted: ScoreEvent[]) {
    return waitFor(
      async () => {
        const view = await client.read('scoring', `/v1/members/${memberId}/score`);
        const expected = foldScores(rules.score, posted, view.window.from).get(memberId);
        if (!expected || view.score !== expected.score) return undefined;
        expect(view.breakdown).toEqual(expected.breakdown);
        return view as { score: number; breakdown: Record<string, number> };
      },
      { timeoutMs: 30_000, description: `the score of ${memberId} to match the rules` },
    );
  }

  const changesOf = (memberId: string) => tierChanges.matching((r) => r.value.memberId === memberId);
  const steps = (records: ReadRecord<TierChanged>[]) =>
    records.map((r) => `${r.value.previousTier}>${r.value.tier}:${r.value.direction}:${r.value.reason}`);
  /** What the member's tier granted or revoked (not 88VIP records, not the lottery's random vouchers). */
  const grantsOf = (memberId: string, action: string) =>
    entitlementChanges
      .matching(
        (r) =>
          r.value.memberId === memberId &&
          r.value.action === action &&
          r.value.benefitKind !== 'membership' &&
          r.value.benefitId !== welcomeGift(DEFAULT_CATALOGUE).id,
      )
      .map((r) => r.value.benefitId);
  /** What a refund clawback from `from` to `to` revokes (status benefits, vouchers, coupons; not the lottery's). */
  const revokedByClawback = (from: Tier, to: Tier) => {
    const plan = planTierChange(
      DEFAULT_CATALOGUE,
      { from, to, occurredAt: new Date(), stint: 'x', reason: 'refund-clawback' },
      new Date(),
    );
    const lottery = welcomeGift(DEFAULT_CATALOGUE).id;
    return [
      ...plan.revocations,
      ...plan.clawbacks.filter((c) => c.benefitId !== lottery).map((c) => c.benefitId),
    ]
      .filter((id) => plannedGrants(from).includes(id))
      .sort();
  };
  const plannedGrants = (to: Tier) =>
    planTierChange(DEFAULT_CATALOGUE, { from: 'BRONZE', to, occurredAt: new Date(), stint: 'x' }, new Date())
      .grants.map((g) => g.benefitId)
      .sort();

  it('when a member spends across all four lines from Bronze to Black Diamond and a refund then takes the upgrade back, then every step is counted once, tiered once and entitled once, and the evaluation after changes nothing', async () => {
    const member = uniqueId('m');
    const posted: ScoreEvent[] = [];
    const post = async (orders: Order[]) => {
      await client.ingestOrders(orders);
      posted.push(...orders.map(scoreEvent));
    };
    const ecommerceMonth = (monthsAgo: number) =>
      [1, 2, 3].map(() => order(member, 'ecommerce', 'physical', 4000, monthsAgo));
    const hotelMonth = (monthsAgo: number) =>
      [1, 2, 3, 4].map(() => order(member, 'travel', 'hotel', 4800, monthsAgo));

    // 400: an order on every line.
    const first = order(member, 'ecommerce', 'physical', 4000);
    await post([
      first,
      order(member, 'food', 'meal', 50),
      order(member, 'mobility', 'ride', 40),
      order(member, 'travel', 'train', 160),
    ]);
    let score = await expectScore(member, posted);
    expect(Object.entries(score.breakdown).every(([, points]) => points > 0)).toBe(true);
    await tierChanges.waitForCount(1, (r) => r.value.memberId === member);
    expect((await client.read('entitlement', `/v1/members/${member}/vip88`)).price.amount).toBe(88_800);

    // A platform retrying the first order gets the same eventId and changes nothing.
    const [retriedId] = await client.ingest('ecommerce', [
      {
        type: 'order.completed',
        orderId: first.orderId,
        memberId: member,
        amount: first.amount,
        currency: 'CNY',
        channel: 'tmall',
        category: 'physical',
        occurredAt: first.occurredAt,
      },
    ]);
    expect(retriedId).toBe(scoreEvent(first).eventId);

    // 700, then 1000 (88VIP at the nominal price), 2500 and 5000.
    await post(ecommerceMonth(1));
    await expectScore(member, posted);
    await tierChanges.waitForCount(2, (r) => r.value.memberId === member);
    await post(ecommerceMonth(2));
    await expectScore(member, posted);
    await tierChanges.waitForCount(3, (r) => r.value.memberId === member);
    await waitFor(
      async () => (await client.read('entitlement', `/v1/members/${member}/vip88`)).price.amount === 8_800,
      {
        description: '88VIP at 88 CNY once Platinum',
      },
    );
    await post([
      ...ecommerceMonth(3),
      ...ecommerceMonth(4),
      ...ecommerceMonth(5),
      ...hotelMonth(0),
      ...hotelMonth(1),
      ...hotelMonth(2),
    ]);
    await expectScore(member, posted);
    await tierChanges.waitForCount(4, (r) => r.value.memberId === member);
    const top = [6, 7, 8, 9, 10].flatMap((m) => [...ecommerceMonth(m), ...hotelMonth(m - 3)]);
    await post(top);
    score = await expectScore(member, posted);
    expect(score.score).toBeGreaterThanOrEqual(rules.tiers.thresholds.BLACK_DIAMOND);
    await tierChanges.waitForCount(5, (r) => r.value.memberId === member);
    expect(steps(changesOf(member))).toEqual([
      'null>SILVER:initial:first-score',
      'SILVER>GOLD:up:score-increase',
      'GOLD>PLATINUM:up:score-increase',
      'PLATINUM>DIAMOND:up:score-increase',
      'DIAMOND>BLACK_DIAMOND:up:score-increase',
    ]);

    // Every benefit up to Black Diamond granted, each exactly once.
    const expectedGrants = plannedGrants('BLACK_DIAMOND');
    const granted = await waitFor(
      () => {
        const ids = grantsOf(member, 'granted').sort();
        return ids.length >= expectedGrants.length ? ids : undefined;
      },
      { description: 'every Black Diamond benefit granted' },
    );
    expect(granted).toEqual(expectedGrants);

    // Days later, a refund of orders the Black Diamond upgrade stood on: the tier goes back at once to
    // what the remaining points support (refund-clawback), and what the upgrade gave is revoked.
    const refunded = top.slice(-7, -4);
    await client.ingest(
      'ecommerce',
      refunded.map((o, i) => refundBody(o, `${o.orderId}-rf${i}`)),
    );
    posted.push(...refunded.map((o, i) => refundEvent(o, `${o.orderId}-rf${i}`)));
    score = await expectScore(member, posted);
    expect(score.score).toBeLessThan(rules.tiers.thresholds.BLACK_DIAMOND);
    const remaining = tierForScore(score.score, rules.tiers.thresholds);
    await tierChanges.waitForCount(6, (r) => r.value.memberId === member);
    expect(steps(changesOf(member)).at(-1)).toBe(`BLACK_DIAMOND>${remaining}:down:refund-clawback`);
    const revocable = revokedByClawback('BLACK_DIAMOND', remaining);
    const revoked = await waitFor(
      () => {
        const ids = grantsOf(member, 'revoked').sort();
        return ids.length >= revocable.length ? ids : undefined;
      },
      { description: 'what the Black Diamond upgrade gave revoked' },
    );
    expect(revoked).toEqual(revocable);
    const { entitlements } = await client.read('entitlement', `/v1/members/${member}/entitlements?limit=200`);
    for (const benefitId of revocable) {
      expect(
        entitlements
          .filter((e: { benefitId: string }) => e.benefitId === benefitId)
          .map((e: { status: string }) => e.status),
      ).toEqual(['revoked']);
    }
    const clawedBack = await client.read('tier', `/v1/members/${member}/tier`);
    expect(clawedBack).toMatchObject({ tier: remaining, downgradePending: false });

    // The monthly evaluation that follows changes nothing for this member.
    const asOf = nextEvaluationAt(new Date(), rules.evaluation.dayOfMonth).toISOString();
    await client.admin('scoring', '/v1/admin/evaluations', { asOf });
    const evaluation = await client.admin('tier', '/v1/admin/evaluations', { asOf });
    expect(evaluation.alreadyCompleted).toBe(false);
    expect((await client.admin('tier', '/v1/admin/evaluations', { asOf })).alreadyCompleted).toBe(true);
    expect(await client.read('tier', `/v1/members/${member}/tier`)).toMatchObject({
      tier: remaining,
      since: clawedBack.since,
      downgradePending: false,
    });
    expect(changesOf(member)).toHaveLength(6);
  });

  it('when a member buys Black Diamond, spends one of its coupons and refunds everything, then the tier is taken back at once to Bronze with everything it gave but the spent coupon', async () => {
    const member = uniqueId('m');
    const orders = [
      ...Array.from({ length: 11 }, (_, m) =>
        [1, 2, 3].map(() => order(member, 'ecommerce', 'physical', 4000, m)),
      ),
      ...Array.from({ length: 8 }, (_, m) =>
        [1, 2, 3, 4].map(() => order(member, 'travel', 'hotel', 4800, m)),
      ),
    ].flat();
    await client.ingestOrders(orders);
    const bought = await expectScore(member, orders.map(scoreEvent));
    expect(bought.score).toBeGreaterThanOrEqual(rules.tiers.thresholds.BLACK_DIAMOND);
    const pack = await waitFor(
      async () => {
        const { entitlements } = await client.read(
          'entitlement',
          `/v1/members/${member}/entitlements?limit=200`,
        );
        return entitlements.find(
          (e: { benefitId: string; status: string }) =>
            e.benefitId === 'black-diamond-monthly-coupon-pack' && e.status === 'granted',
        );
      },
      { description: 'the Black Diamond coupon pack' },
    );
    await client.checkout('entitlement', `/v1/members/${member}/entitlements/${pack.id}/use`);

    for (const source of ['ecommerce', 'travel'] as const) {
      const mine = orders.filter((o) => o.source === source);
      await client.ingest(
        source,
        mine.map((o) => refundBody(o, `${o.orderId}-rf`)),
      );
    }
    await expectScore(member, [
      ...orders.map(scoreEvent),
      ...orders.map((o) => refundEvent(o, `${o.orderId}-rf`)),
    ]);
    await waitFor(async () => (await client.read('tier', `/v1/members/${member}/tier`)).tier === 'BRONZE', {
      description: 'the tier taken back to Bronze',
    });
    // The API answers from tier's state as soon as it commits; the record follows through the outbox.
    const after = await waitFor(
      () => {
        const seen = steps(changesOf(member));
        return seen.at(-1)?.includes('>BRONZE:') ? seen : undefined;
      },
      { description: 'the tier-changed record back to Bronze on the topic' },
    );
    const upgrade = after.findIndex((s) => s.includes('>BLACK_DIAMOND:'));
    expect(upgrade).toBeGreaterThanOrEqual(0);
    expect(after.slice(upgrade + 1).every((s) => s.endsWith(':down:refund-clawback'))).toBe(true);
    expect(after.at(-1)).toMatch(/>BRONZE:down:refund-clawback$/);

    const revocable = revokedByClawback('BLACK_DIAMOND', 'BRONZE').filter(
      (id) => id !== 'black-diamond-monthly-coupon-pack',
    );
    const statuses = await waitFor(
      async () => {
        const { entitlements } = await client.read(
          'entitlement',
          `/v1/members/${member}/entitlements?limit=200`,
        );
        const status = (id: string) =>
          entitlements
            .filter((e: { benefitId: string }) => e.benefitId === id)
            .map((e: { status: string }) => e.status);
        return revocable.every((id) => status(id).includes('revoked')) ? status : undefined;
      },
      { description: 'everything above Bronze revoked' },
    );
    expect(statuses('black-diamond-monthly-coupon-pack')).toEqual(['used']);
    expect(statuses('flash-sale-weekly-coupon')).toEqual(['granted']);
    expect(statuses('concierge-customer-service')).toEqual(['revoked']);
  });

  it("when one batch jumps a member across two thresholds, then one tier-changed record, and both tiers' benefits once", async () => {
    const member = uniqueId('m');
    // One POST to one service: one record batch on one partition, folded in one transaction.
    const orders = [0, 1].flatMap((monthsAgo) =>
      [1, 2, 3].map(() => order(member, 'ecommerce', 'physical', 4000, monthsAgo)),
    );
    await client.ingestOrders(orders);
    const score = await expectScore(member, orders.map(scoreEvent));
    expect(score.score).toBeGreaterThanOrEqual(rules.tiers.thresholds.GOLD);
    expect(score.score).toBeLessThan(rules.tiers.thresholds.PLATINUM);
    await tierChanges.waitForCount(1, (r) => r.value.memberId === member);
    const expectedGrants = plannedGrants('GOLD');
    const granted = await waitFor(() => {
      const ids = grantsOf(member, 'granted').sort();
      return ids.length >= expectedGrants.length ? ids : undefined;
    });
    expect(granted).toEqual(expectedGrants);
    expect(steps(changesOf(member))).toEqual(['null>GOLD:initial:first-score']);
  });

  it('when a member’s only order leaves them Bronze, then tier announces them once and they get Bronze’s periodic coupons', async () => {
    const member = uniqueId('m');
    const only = order(member, 'food', 'meal', 30);
    await client.ingestOrders([only]);
    await expectScore(member, [scoreEvent(only)]);
    const [first] = await tierChanges.waitForCount(1, (r) => r.value.memberId === member);
    expect(first?.value).toMatchObject({
      previousTier: null,
      tier: 'BRONZE',
      direction: 'initial',
      reason: 'first-score',
    });
    const expected = plannedGrants('BRONZE');
    const granted = await waitFor(() => {
      const ids = grantsOf(member, 'granted').sort();
      return ids.length >= expected.length ? ids : undefined;
    });
    expect(granted).toEqual(expected);
    expect(granted).toEqual(
      expect.arrayContaining(['flash-sale-weekly-coupon', 'daily-check-in-red-packet']),
    );
  });

  it('when a refund reaches ingest before its order, then the score ends as if it came after', async () => {
    const early = uniqueId('m');
    const late = uniqueId('m');
    const [a, b] = [order(early, 'food', 'grocery', 300), order(late, 'food', 'grocery', 300)];
    await client.ingest('food', [refundBody(a as Order, 'rf-early', 12_000)]);
    await client.ingestOrders([a as Order, b as Order]);
    await client.ingest('food', [refundBody(b as Order, 'rf-late', 12_000)]);
    const [first, second] = await Promise.all([
      expectScore(early, [scoreEvent(a as Order), refundEvent(a as Order, 'rf-early', 12_000)]),
      expectScore(late, [scoreEvent(b as Order), refundEvent(b as Order, 'rf-late', 12_000)]),
    ]);
    expect(first.score).toBe(second.score);
    expect(first.breakdown).toEqual(second.breakdown);
    expect(first.score).toBeGreaterThan(rules.score.baseScore);
  });
});

describe('the taobi CLI against a running stack', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await TestStack.start();
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
  });

  async function taobi(...args: string[]): Promise<{ code: number | null; output: string }> {
    const cli = ServiceProcess.start('packages/cli/src/main.ts', stack.urlEnv, args);
    const { code } = await cli.exited;
    return { code, output: cli.output };
  }

  it('when an SRE simulates load, inspects a member and refills Redis, then the CLI does each through the APIs', async () => {
    const simulated = await taobi('simulate', '--members', '20', '--months', '3', '--seed', '7');
    expect(simulated.code).toBe(0);
    const accepted = Number(/done: (\d+) accepted, 0 rejected/.exec(simulated.output)?.[1]);
    expect(accepted).toBeGreaterThan(100);

    // Every service ready: a readiness check may miss its 2 s on a loaded machine right after the
    // load, as an SRE would see it, so `status` is asked again until it answers 0 (its last table
    // is in the failure message).
    let status = { code: null as number | null, output: '' };
    await waitFor(
      async () => {
        status = await taobi('status');
        return status.code === 0;
      },
      { timeoutMs: 60_000, intervalMs: 1000, description: 'taobi status to exit 0' },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; it printed:\n${status.output}`);
    });
    expect(status.output.match(/ ready /g)).toHaveLength(8);

    // Most simulated members are light shoppers: inspect one whose spending has been scored.
    const runId = /run (sim[0-9a-f]+)\)/.exec(simulated.output)?.[1];
    const client = new Client(stack);
    const member = await waitFor(
      async () => {
        for (let i = 0; i < 20; i += 1) {
          const view = await client.read('scoring', `/v1/members/${runId}-m${i}/score`);
          if (view.score > 300) return view.memberId as string;
        }
        return undefined;
      },
      { description: 'a simulated member scored' },
    );
    const inspected = await taobi('member', member);
    expect(inspected.code).toBe(0);
    for (const section of [
      'score (scoring)',
      'contributions (scoring)',
      'tier (tier)',
      'entitlements (entitlement)',
      '88VIP (entitlement)',
    ]) {
      expect(inspected.output).toContain(section);
    }
    expect(inspected.output).toContain(`"memberId": "${member}"`);

    const refilled = await taobi('refill-redis');
    expect(refilled.code).toBe(0);
    expect(refilled.output).toMatch(/"membersScanned": ([2-9]\d|1\d)/);

    const unknown = await taobi('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.output).toContain('unknown command: frobnicate');
  });

  it('when the demo runs (a small year), then its report ends by pointing to the web console', async () => {
    // The CLI derives the consumer groups from KAFKA_TOPIC_PREFIX, as the services do.
    const cli = ServiceProcess.start(
      'packages/cli/src/main.ts',
      { ...stack.urlEnv, KAFKA_TOPIC_PREFIX: stack.topicPrefix },
      ['demo', '--members', '12', '--seed', '3'],
    );
    await cli.exited;
    const consoleUrl = stack.url('console');
    expect(cli.output).toMatch(
      new RegExp(
        `See it in the web console: ${consoleUrl}/programme, ${consoleUrl}/members\\?id=\\S+ and, with the admin key, ${consoleUrl}/backtests\\n`,
      ),
    );
  });
});
