import {
  type ConsumingService,
  type ScoreBreakdown,
  type ScoreChanged,
  TIERS,
  type Tier,
  type TierChanged,
  topicNames,
} from '@taobi/contracts';
import { consumerGroupLags, DEVELOPMENT_KEYS, type GroupLag } from '@taobi/platform';
import { nextEvaluationAt, type RuleSet } from '@taobi/rules';
import { callApi, type Endpoints, ingestEndpoint } from '../endpoints';
import { TopicWatch } from '../kafka-watch';
import { barChart, mapLimit, percentile, table } from '../report';
import { waitForProgress } from '../stall';
import { programmeReport } from './demo-programme';
import { runSimulation } from './simulate';

export interface DemoOptions {
  members: number;
  seed: number;
  brokers: string[];
  topicPrefix: string;
  /** The consumer groups to wait for (`consumerGroups(topicPrefix)` unless overridden). */
  groups: { service: ConsumingService; groupId: string; topic: string }[];
  /** The rule set the services run: its sources and its evaluation day. */
  rules: RuleSet;
  /** Every wait fails, saying what is stuck, when nothing moved for this long. */
  stallMs: number;
}

interface ScoreView {
  score: number;
  breakdown: ScoreBreakdown;
}

/**
 * `taobi demo`: a few thousand synthetic members' year of spending through the ingest APIs, the
 * monthly evaluation, then a report read back through the public APIs and the Kafka topics.
 */
export async function demo(endpoints: Endpoints, options: DemoOptions): Promise<number> {
  const topics = topicNames(options.topicPrefix);
  const say = (line = '') => console.log(line);

  say('Taobi demo: checking the stack...');
  for (const service of ['ingest-ecommerce', 'scoring', 'tier', 'entitlement'] as const) {
    await callApi(`${endpoints.url(service)}/readyz`, { timeoutMs: 5000 }).catch(() => {
      throw new Error(
        `${service} is not ready at ${endpoints.url(service)}: start the stack with \`npm start\` first`,
      );
    });
  }
  const watch = await TopicWatch.start(options.brokers, [
    topics.scoreChanged,
    topics.tierChanged,
    topics.entitlementChanged,
  ]);
  try {
    say(`\n1. A simulated year: ${options.members} members spending through the four ingest APIs`);
    const { result, runId } = await runSimulation(endpoints, options.rules, {
      members: options.members,
      months: 12,
      seed: options.seed,
      batchSize: 250,
      concurrency: 8,
      stallMs: options.stallMs,
    });
    if (result.rejected > 0) throw new Error(`${result.rejected} events were rejected by ingest`);
    const mine = (memberId: string) => memberId.startsWith(`${runId}-`);

    say('\n2. Waiting for scoring, tier and entitlement to catch up (consumer-group lag on each topic)...');
    await settle(watch, options);

    const asOf = nextEvaluationAt(new Date(), options.rules.evaluation.dayOfMonth);
    say(
      `\n3. The monthly evaluation as of ${asOf.toISOString()} (scoring expires old months, tier downgrades)`,
    );
    const scoringRun = await callApi<Record<string, unknown>>(
      `${endpoints.url('scoring')}/v1/admin/evaluations`,
      {
        method: 'POST',
        key: endpoints.adminKey,
        body: { asOf: asOf.toISOString() },
      },
    );
    const tierRun = await callApi<Record<string, unknown>>(`${endpoints.url('tier')}/v1/admin/evaluations`, {
      method: 'POST',
      key: endpoints.adminKey,
      body: { asOf: asOf.toISOString() },
    });
    say(`   scoring: ${JSON.stringify(scoringRun)}`);
    say(`   tier:    ${JSON.stringify(tierRun)}`);
    if (scoringRun.alreadyCompleted || tierRun.alreadyCompleted) {
      say('   (this evaluation had already run, by an earlier demo or the schedule: it is never run twice,');
      say("    so this run's members keep their scores and tiers until the next one)");
    }
    await settle(watch, options);

    say('\n4. Latency probes on the quiet stack: 40 new members, one qualifying order each');
    const idle = await probeLatency(endpoints, watch, topics, runId, options.stallMs);
    const memberIds = Array.from({ length: options.members }, (_, i) => `${runId}-m${i}`);
    return await report(endpoints, watch, topics, memberIds, mine, result.acceptedAt, idle, options.stallMs);
  } finally {
    await watch.close();
  }
}

/**
 * The latency of one upgrade on a quiet stack: a fresh member's single order large enough for
 * Silver, from its 202 to the tier-changed record reaching a downstream consumer. One at a time: a
 * lone event on an idle stack, what `pnpm bench:live` calls quiet.
 */
async function probeLatency(
  endpoints: Endpoints,
  watch: TopicWatch,
  topics: ReturnType<typeof topicNames>,
  runId: string,
  stallMs: number,
): Promise<number[]> {
  const probes = Array.from({ length: 40 }, (_, i) => `${runId}-probe${i}`);
  const shop = ingestEndpoint(endpoints, 'ecommerce');
  return mapLimit(probes, 1, async (memberId) => {
    await callApi(`${shop.url}/v1/events`, {
      method: 'POST',
      key: shop.key,
      body: {
        type: 'order.completed',
        orderId: `${memberId}-o1`,
        memberId,
        amount: 400_000,
        currency: 'CNY',
        channel: 'tmall',
        category: 'physical',
        occurredAt: new Date(Date.now() - 1000).toISOString(),
      },
    });
    const accepted = Date.now();
    const seen = await waitForProgress({
      what: `the tier change of latency probe ${memberId}`,
      stallMs,
      intervalMs: 5,
      poll: async () => watch.of<TierChanged>(topics.tierChanged).find((r) => r.value.memberId === memberId),
      done: (record) => record !== undefined,
      progress: () => 0,
      stuck: () =>
        `ingest-ecommerce accepted its 4,000 CNY order but no tier-changed record arrived ` +
        '(is scoring or tier down or stuck? `pnpm taobi status`, and their logs)',
    });
    return (seen?.seenAt ?? accepted) - accepted;
  });
}

/** Says which groups are behind, and which have committed nothing (not running, or another group). */
function describeLags(lags: readonly GroupLag[], groups: DemoOptions['groups']): string {
  const behind = lags
    .map((lag, i) => ({ ...lag, service: groups[i]?.service }))
    .filter((lag) => lag.lag > 0)
    .map(
      (lag) =>
        `${lag.service} (consumer group ${lag.groupId}) is ${lag.lag} records behind on ${lag.topic}` +
        (lag.committed
          ? ''
          : `, and the group has committed nothing there: is ${lag.service} running, with this group ` +
            '(the same KAFKA_TOPIC_PREFIX as the stack)?'),
    );
  return behind.join('; ') || 'every group has caught up';
}

/**
 * Waits until every group has consumed everything and no derived record arrived for 2 s. Progress is
 * a group committing or a record arriving; none for `stallMs` fails the demo, naming the groups behind.
 */
async function settle(watch: TopicWatch, options: DemoOptions): Promise<void> {
  let quietSince: number | undefined;
  let lastSeen = -1;
  await waitForProgress({
    what: 'scoring, tier and entitlement to catch up',
    stallMs: options.stallMs,
    poll: async () => {
      const lags = await consumerGroupLags(watch.kafka, options.groups);
      const lag = lags.reduce((sum, group) => sum + group.lag, 0);
      const seen = [...watch.records.values()].reduce((n, list) => n + list.length, 0);
      quietSince = lag === 0 && seen === lastSeen ? (quietSince ?? Date.now()) : undefined;
      lastSeen = seen;
      return { lags, lag, seen, quiet: quietSince !== undefined && Date.now() - quietSince >= 2000 };
    },
    done: (state) => state.quiet,
    progress: (state) => [state.lags.map((group) => group.position), state.seen],
    stuck: (state) => describeLags(state.lags, options.groups),
    onPoll: (state, elapsedMs) =>
      console.log(
        `   lag ${state.lag} records; ${state.seen} derived records seen (${Math.round(elapsedMs / 1000)} s)`,
      ),
  });
}

async function report(
  endpoints: Endpoints,
  watch: TopicWatch,
  topics: ReturnType<typeof topicNames>,
  memberIds: string[],
  mine: (memberId: string) => boolean,
  acceptedAt: Map<string, number>,
  idle: number[],
  stallMs: number,
): Promise<number> {
  const say = (line = '') => console.log(line);
  const read = <T>(url: string) => callApi<T>(url, { key: endpoints.readKey });

  const tiers = await mapLimit(memberIds, 16, (id) =>
    read<{ tier: Tier; score: number }>(`${endpoints.url('tier')}/v1/members/${id}/tier`),
  );
  const histogram = new Map<Tier, number>(TIERS.map((t) => [t, 0]));
  for (const { tier } of tiers) histogram.set(tier, (histogram.get(tier) ?? 0) + 1);
  say('\n5. Members per tier (GET /v1/members/:id/tier for every simulated member)');
  say(
    barChart(
      [...histogram].map(([tier, count]) => [tier, count]),
      memberIds.length,
    ),
  );

  const tierChanges = watch.of<TierChanged>(topics.tierChanged).filter((r) => mine(r.value.memberId));
  const scoreChanges = watch.of<ScoreChanged>(topics.scoreChanged).filter((r) => mine(r.value.memberId));
  const causes = new Map(
    scoreChanges.map((r) => [`${r.value.memberId}:${r.value.version}`, r.value.causeEventIds]),
  );

  // A few members, from the top tier down: score breakdown (does it add up?) and tier history.
  const samples = TIERS.slice()
    .reverse()
    .map((tier) => memberIds[tiers.findIndex((t) => t.tier === tier)])
    .filter((id): id is string => id !== undefined)
    .slice(0, 4);
  say('\n6. Sample members: score breakdown and tier history');
  let breakdownsAddUp = true;
  for (const id of samples) {
    const score = await read<ScoreView>(`${endpoints.url('scoring')}/v1/members/${id}/score`);
    const sum = Object.values(score.breakdown).reduce((a, b) => a + b, 0);
    breakdownsAddUp &&= sum === score.score;
    const history = tierChanges
      .filter((r) => r.value.memberId === id)
      .map((r) => `${r.value.previousTier ?? 'first'}→${r.value.tier} (${r.value.reason}, ${r.value.score})`);
    const { entitlements } = await read<{ entitlements: { benefitId: string; status: string }[] }>(
      `${endpoints.url('entitlement')}/v1/members/${id}/entitlements?limit=100`,
    );
    const vip = await read<{ eligibleForNominalPrice: boolean; price: { amount: number } }>(
      `${endpoints.url('entitlement')}/v1/members/${id}/vip88`,
    );
    say(
      `   ${id}: score ${score.score} = ${Object.entries(score.breakdown)
        .map(([k, v]) => `${k} ${v}`)
        .join(' + ')}${sum === score.score ? '' : `  (!= ${sum})`}`,
    );
    say(`      tiers: ${history.join(', ') || 'BRONZE throughout'}`);
    say(
      `      benefits: ${entitlements.filter((e) => e.status === 'granted').length} granted, ` +
        `${entitlements.filter((e) => e.status === 'revoked').length} revoked; ` +
        `88VIP at ${(vip.price.amount / 100).toFixed(0)} CNY${vip.eligibleForNominalPrice ? ' (nominal price)' : ''}`,
    );
  }

  const entitlementChanges = watch
    .of<{ memberId: string | null; action: string }>(topics.entitlementChanged)
    .filter((r) => r.value.memberId !== null && mine(r.value.memberId));
  const count = (action: string) => entitlementChanges.filter((r) => r.value.action === action).length;
  const vip88 = await mapLimit(memberIds, 16, (id) =>
    read<{ eligibleForNominalPrice: boolean }>(`${endpoints.url('entitlement')}/v1/members/${id}/vip88`),
  );
  say('\n7. Benefits and 88VIP (taobi.entitlement-changed.v1 and GET /v1/members/:id/vip88)');
  say(
    `   ${count('granted')} benefits granted, ${count('revoked')} revoked, ${count('eligibility-changed')} 88VIP eligibility changes`,
  );
  say(
    `   88VIP at the nominal 88 CNY: ${vip88.filter((v) => v.eligibleForNominalPrice).length} members; ` +
      `at 888 CNY: ${vip88.filter((v) => !v.eligibleForNominalPrice).length}`,
  );

  // Latency: from the 202 of the newest event that placed or upgraded a member to the tier-changed record.
  const latencies = tierChanges
    .filter((r) => r.value.direction !== 'down')
    .map((r) => {
      const ids = causes.get(`${r.value.memberId}:${r.value.scoreVersion}`) ?? [];
      const accepted = Math.max(...ids.map((id) => acceptedAt.get(id) ?? 0));
      return accepted > 0 ? r.seenAt - accepted : undefined;
    })
    .filter((ms): ms is number => ms !== undefined);
  say('\n8. End-to-end latency, 202 from ingest → tier-changed record seen by a downstream consumer');
  say(
    table([
      ['', 'upgrades   median      p99'],
      [
        'during the backfill (every event as fast as ingest takes them)',
        `${String(latencies.length).padStart(8)} ${`${percentile(latencies, 0.5)} ms`.padStart(9)} ${`${percentile(latencies, 0.99)} ms`.padStart(9)}`,
      ],
      [
        'quiet stack (the probes)',
        `${String(idle.length).padStart(8)} ${`${percentile(idle, 0.5)} ms`.padStart(9)} ${`${percentile(idle, 0.99)} ms`.padStart(9)}`,
      ],
    ]),
  );

  const programme = await programmeReport({
    endpoints,
    watch,
    topics,
    memberIds,
    tiers: tiers.map((t) => t.tier),
    stallMs,
  });

  const populated = [...histogram.values()].every((n) => n > 0);
  say(
    `\nAll six tiers populated: ${populated ? 'yes' : 'no'}; sample breakdowns add up: ${breakdownsAddUp ? 'yes' : 'no'}; ` +
      `every member has periodic grants, every 88VIP term its bundle, no offer over budget: ${programme ? 'yes' : 'no'}`,
  );
  // The same programme, to look at: the console's programme view and the top member's page.
  const top = memberIds[tiers.reduce((best, t, i) => (t.score > (tiers[best]?.score ?? -1) ? i : best), 0)];
  const consoleUrl = endpoints.url('console');
  say(
    `\nSee it in the web console: ${consoleUrl}/programme, ${consoleUrl}/members?id=${top} and, with the admin key, ${consoleUrl}/backtests`,
  );
  say(
    `(sign in with a read or admin key; on the local stack ${DEVELOPMENT_KEYS.read} or ${DEVELOPMENT_KEYS.admin})`,
  );
  return populated && breakdownsAddUp && programme ? 0 : 1;
}
