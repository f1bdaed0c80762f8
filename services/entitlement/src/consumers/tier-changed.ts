import { type Catalogue, planTierChange } from '@taobi/benefits';
import type { TierChanged } from '@taobi/contracts';
import {
  type ConsumedRecord,
  type Counter,
  enqueueOutbox,
  type Logger,
  type OutboxRecord,
  type Pool,
  type PoolClient,
  withTransaction,
} from '@taobi/platform';
import { grantRecord } from '../domain/grants';
import { compareOrderingKeys, orderingKeyOf, stintOf } from '../domain/ordering';
import { eligibilityChangedRecord } from '../domain/vip88';
import type { Lottery } from '../jobs/lottery';
import { insertGrants, type NewGrant, revokeLiveGrants } from '../store/grants';
import { lockMembers, type MemberState, saveMemberTiers } from '../store/members';
import { logTierChanges, type TierChangeLogEntry } from '../store/tier-changes';

export interface TierChangeHandlerDeps {
  pool: Pool;
  catalogue: Catalogue;
  now: () => Date;
  logger: Logger;
  counters: { tierChanges: Counter<'outcome'>; entitlements: Counter<'action' | 'kind'> };
  /** Draws the welcome-gift lottery for members reaching a tier for the first time. */
  lottery: Lottery;
  /** Called after a batch committed (wakes the outbox relay). */
  onCommitted: () => void;
}

interface Transition {
  record: ConsumedRecord<TierChanged>;
  from: MemberState;
  to: MemberState;
}

/**
 * Consumes one partition's batch of tier-changed records in one transaction:
 *
 * 1. lock the batch's members (creating unseen ones as Bronze) and drop stale records: a record not
 *    newer than the member's current one (duplicate, replay, out of order) changes nothing;
 * 2. apply the remaining records in rounds (round k holds each member's k-th record, so one member's
 *    changes apply in order while each round is a few set-based statements for all members):
 *    revoke the status benefits the new tier does not hold (and, when a refund took an upgrade back,
 *    the unused vouchers and current coupons of the tiers above), insert the grants it holds (the store's
 *    unique keys drop what is already granted, so a welcome gift is granted once per member, ever),
 *    draw the welcome-gift lottery for a tier reached for the first time (placed or raised to it),
 *    publish `eligibility-changed` when 88VIP's price moves;
 * 3. save each member's tier and ordering key, log every record, enqueue the outgoing records.
 *
 * Offsets are committed by the batch consumer after this resolves: a crash before that redelivers
 * the batch, and step 1 then finds every record stale.
 */
export function createTierChangeHandler(deps: TierChangeHandlerDeps) {
  const log = deps.logger.child({ component: 'tier-changed' });

  async function applyRound(client: PoolClient, round: Transition[], now: Date): Promise<OutboxRecord[]> {
    const plans = round.map((t) => ({
      t,
      plan: planTierChange(
        deps.catalogue,
        {
          from: t.from.tier,
          to: t.to.tier,
          occurredAt: new Date(t.to.key.occurredAtMs),
          stint: stintOf(t.to.key),
          reason: t.record.value.reason,
        },
        now,
      ),
    }));
    const revoked = await revokeLiveGrants(
      client,
      plans.flatMap(({ t, plan }) =>
        [...plan.revocations.map((benefitId) => ({ benefitId, grantKey: null })), ...plan.clawbacks].map(
          (revocation) => ({ ...revocation, memberId: t.to.memberId, causeId: t.to.key.eventId }),
        ),
      ),
      now,
    );
    const granted = await insertGrants(
      client,
      plans.flatMap(({ t, plan }) =>
        plan.grants.map(
          (grant): NewGrant => ({
            memberId: t.to.memberId,
            benefitId: grant.benefitId,
            kind: grant.kind,
            grantKey: grant.grantKey,
            period: grant.period,
            tier: t.to.tier,
            catalogueVersion: deps.catalogue.version,
            cause: 'tier-change',
            causeId: t.to.key.eventId,
            details: {},
            grantedAt: now,
            expiresAt: grant.expiresAt,
          }),
        ),
      ),
    );
    const tierOf = new Map(round.map((t) => [t.to.memberId, t.to.tier]));
    const outgoing: OutboxRecord[] = [];
    for (const row of revoked) {
      outgoing.push(grantRecord(deps.catalogue, row, 'revoked', tierOf.get(row.member_id) ?? row.tier, now));
      deps.counters.entitlements.labels('revoked', row.kind).inc();
    }
    for (const row of granted) {
      outgoing.push(grantRecord(deps.catalogue, row, 'granted', row.tier, now));
      deps.counters.entitlements.labels('granted', row.kind).inc();
    }
    const arrivals = round
      .filter((t) => t.record.value.direction !== 'down')
      .map((t) => ({ memberId: t.to.memberId, tier: t.to.tier, causeId: t.to.key.eventId }));
    outgoing.push(...(await deps.lottery.drawFor(client, arrivals, now)));
    for (const { t, plan } of plans) {
      if (!plan.vip88.thresholdCrossed) continue;
      outgoing.push(
        eligibilityChangedRecord(deps.catalogue, {
          memberId: t.to.memberId,
          tierEventId: t.to.key.eventId,
          to: t.to.tier,
          occurredAt: now,
          vip88: plan.vip88,
        }),
      );
    }
    for (const t of round) {
      const { topic, partition, offset } = t.record;
      log.info(
        {
          memberId: t.to.memberId,
          eventId: t.to.key.eventId,
          topic,
          partition,
          offset,
          from: t.from.tier,
          to: t.to.tier,
          granted: granted.filter((g) => g.member_id === t.to.memberId).length,
          revoked: revoked.filter((r) => r.member_id === t.to.memberId).length,
        },
        'tier change applied',
      );
    }
    return outgoing;
  }

  return async function handle(records: ConsumedRecord<TierChanged>[]): Promise<void> {
    const now = deps.now();
    const counts = await withTransaction(deps.pool, async (client) => {
      const states = await lockMembers(
        client,
        records.map((r) => r.value.memberId),
      );
      const queues = new Map<string, Transition[]>();
      const entries: TierChangeLogEntry[] = [];
      for (const record of records) {
        const { value } = record;
        const queue = queues.get(value.memberId) ?? [];
        const current = queue.at(-1)?.to ?? (states.get(value.memberId) as MemberState);
        const key = orderingKeyOf(value);
        if (compareOrderingKeys(key, current.key) <= 0) {
          entries.push({ record: value, outcome: 'stale' });
          log.info(
            {
              memberId: value.memberId,
              eventId: value.eventId,
              topic: record.topic,
              partition: record.partition,
              offset: record.offset,
            },
            'stale or repeated tier change ignored',
          );
          continue;
        }
        const moved = value.tier !== current.tier;
        const next: MemberState = {
          memberId: value.memberId,
          tier: value.tier,
          score: value.score,
          since: moved || !current.since ? new Date(key.occurredAtMs) : current.since,
          key,
        };
        queue.push({ record, from: current, to: next });
        queues.set(value.memberId, queue);
        entries.push({ record: value, outcome: 'applied' });
      }

      const outgoing: OutboxRecord[] = [];
      for (let k = 0; ; k += 1) {
        const round = [...queues.values()].flatMap((queue) => (queue[k] ? [queue[k] as Transition] : []));
        if (round.length === 0) break;
        outgoing.push(...(await applyRound(client, round, now)));
      }
      await saveMemberTiers(
        client,
        [...queues.values()].map((queue) => (queue.at(-1) as Transition).to),
      );
      await logTierChanges(client, entries);
      await enqueueOutbox(client, 'entitlement', outgoing);
      return {
        applied: entries.filter((e) => e.outcome === 'applied').length,
        stale: entries.filter((e) => e.outcome === 'stale').length,
        published: outgoing.length,
      };
    });
    deps.counters.tierChanges.labels('applied').inc(counts.applied);
    deps.counters.tierChanges.labels('stale').inc(counts.stale);
    if (counts.published > 0) deps.onCommitted();
  };
}
