import { TIERS, type Tier, type TierChangeReason, tierRank } from '@taobi/contracts';
import { grantedOnTierChange, vip88Bundle, welcomeGift } from './catalogue';
import { type Benefit, type Catalogue, type GrantKind, minTierOf } from './catalogue-schema';
import { type Period, parsePeriod, periodOf } from './periods';
import { crossesVip88Threshold, type Vip88Quote, vip88Quote } from './vip88';

/**
 * The entitlement policy: what a tier change grants and revokes. It is a desired-state plan, not a
 * diff: it lists every grant the member should hold at the new tier, each under a key that is unique
 * per (member, benefit), and the store inserts them with ON CONFLICT DO NOTHING. So a replayed or
 * repeated tier change, a member seen for the first time, or a tier skipped on the way up all come
 * out right, and nothing is granted twice:
 *
 * - `status` benefits are keyed by the stint (the stay in the tier that granted them); the store also
 *   allows at most one held (`granted`) row per status benefit, so a later record for the same tier
 *   does not grant it again; leaving the tier revokes it, and re-entering later grants a new stint;
 * - `one-time` benefits are keyed `once`: granted once per member, ever;
 * - `periodic` benefits are keyed by their period (`2026-W47`, `2026-11`): entering a tier grants the
 *   current period's coupon; later periods come from the scheduled job.
 */
export const ONCE = 'once';

export interface TierTransition {
  from: Tier;
  to: Tier;
  /** When the change happened (the tier-changed record's occurredAt): fixes the periods. */
  occurredAt: Date;
  /** Identifies this stay in the tier, derived from the causing record (stable on replay). */
  stint: string;
  /** Why the tier changed; `refund-clawback` also takes back what the reverted upgrade gave. */
  reason?: TierChangeReason;
}

export interface PlannedGrant {
  benefitId: string;
  kind: GrantKind;
  /** Unique within (member, benefit): a period key, `once`, or `stint:<stint>`. */
  grantKey: string;
  /** The period carried on the published record: a periodic benefit's period, null otherwise. */
  period: string | null;
  expiresAt: Date | null;
  /** 88VIP bundle only: the grant ends with the term (revoked by the term-end job, not expired). */
  endsWithTerm?: boolean;
}

/** A grant to take back: of this benefit, under this key only when given. */
export interface Clawback {
  benefitId: string;
  grantKey: string | null;
}

export interface TierChangePlan {
  grants: PlannedGrant[];
  /** Status benefits not held at the new tier: the store revokes those held and not yet used. */
  revocations: string[];
  /**
   * On a `refund-clawback` only: the unused one-time and current periodic grants of the tiers above
   * the new one (their welcome vouchers and coupons), and the lottery vouchers won at those tiers.
   * The store revokes the live ones; used or expired ones stay as they are.
   */
  clawbacks: Clawback[];
  vip88: { thresholdCrossed: boolean; quote: Vip88Quote; previousQuote: Vip88Quote };
}

const DAY_MS = 24 * 3600_000;

export function statusGrantKey(stint: string): string {
  return `stint:${stint}`;
}

function plannedGrant(benefit: Benefit, transition: TierTransition, now: Date): PlannedGrant | undefined {
  switch (benefit.kind) {
    case 'status':
      return {
        benefitId: benefit.id,
        kind: 'status',
        grantKey: statusGrantKey(transition.stint),
        period: null,
        expiresAt: null,
      };
    case 'one-time': {
      if (benefit.fulfilment.type !== 'voucher') return undefined;
      const expiresAt = new Date(now.getTime() + benefit.fulfilment.validDays * DAY_MS);
      return { benefitId: benefit.id, kind: 'one-time', grantKey: ONCE, period: null, expiresAt };
    }
    case 'periodic': {
      const period = periodOf(benefit.cadence, transition.occurredAt);
      // A record processed after its period ended would grant a coupon that is already dead.
      if (period.end.getTime() <= now.getTime()) return undefined;
      return {
        benefitId: benefit.id,
        kind: 'periodic',
        grantKey: period.key,
        period: period.key,
        expiresAt: period.end,
      };
    }
    default:
      return undefined;
  }
}

/** The plan for a member moving from `transition.from` to `transition.to`, processed at `now`. */
export function planTierChange(catalogue: Catalogue, transition: TierTransition, now: Date): TierChangePlan {
  const rank = tierRank(transition.to);
  const grants: PlannedGrant[] = [];
  const revocations: string[] = [];
  for (const benefit of catalogue.benefits) {
    if (!grantedOnTierChange(benefit)) continue;
    if (tierRank(minTierOf(benefit) as Tier) <= rank) {
      const grant = plannedGrant(benefit, transition, now);
      if (grant) grants.push(grant);
    } else if (benefit.kind === 'status') {
      revocations.push(benefit.id);
    }
  }
  return {
    grants,
    revocations,
    clawbacks: transition.reason === 'refund-clawback' ? clawbacksAbove(catalogue, transition.to) : [],
    vip88: {
      thresholdCrossed: crossesVip88Threshold(catalogue.vip88, transition.from, transition.to),
      quote: vip88Quote(catalogue.vip88, transition.to),
      previousQuote: vip88Quote(catalogue.vip88, transition.from),
    },
  };
}

/** What a refund clawback to `tier` takes back: see `TierChangePlan.clawbacks`. */
export function clawbacksAbove(catalogue: Catalogue, tier: Tier): Clawback[] {
  const above = (t: Tier) => tierRank(t) > tierRank(tier);
  const lottery = welcomeGift(catalogue);
  const benefits = catalogue.benefits.flatMap((benefit) => {
    const minTier = minTierOf(benefit);
    const kept = benefit.kind === 'status' || benefit.kind === 'offer' || benefit.id === lottery.id;
    return minTier !== null && !kept && above(minTier) ? [{ benefitId: benefit.id, grantKey: null }] : [];
  });
  const vouchers = TIERS.filter(above).map((t) => ({ benefitId: lottery.id, grantKey: `draw:${t}` }));
  return [...benefits, ...vouchers];
}

export interface PeriodicIssue {
  period: Period;
  /** The tier benefits of the period's cadence, with the lowest tier rank that gets each. */
  benefits: { benefitId: string; minTierRank: number }[];
  /** The 88VIP-bundle benefits of the period's cadence: every member whose term runs gets each. */
  vip88Benefits: string[];
}

/** What the periodic job issues for one period (`2026-W47` or `2026-11`); undefined if malformed. */
export function planPeriodicIssue(catalogue: Catalogue, periodKey: string): PeriodicIssue | undefined {
  const period = parsePeriod(periodKey);
  if (!period) return undefined;
  const periodic = catalogue.benefits.filter((b) => b.kind === 'periodic' && b.cadence === period.cadence);
  const benefits = periodic.flatMap((b) => {
    const minTier = minTierOf(b);
    return minTier === null ? [] : [{ benefitId: b.id, minTierRank: tierRank(minTier) }];
  });
  const vip88Benefits = periodic.filter((b) => minTierOf(b) === null).map((b) => b.id);
  return { period, benefits, vip88Benefits };
}

/** A running 88VIP term, as the bundle's grants need it. */
export interface Vip88Term {
  activationId: string;
  startsAt: Date;
  expiresAt: Date;
}

/** The key of a bundle grant: one per term, and for periodic benefits one per period of the term. */
export function vip88GrantKey(activationId: string, periodKey?: string): string {
  return periodKey ? `${periodKey}@term:${activationId}` : `term:${activationId}`;
}

/**
 * What an 88VIP activation grants (the bundle), processed at `now`: status benefits and vouchers for
 * the term (expiry = the term's end, or a voucher's own validity when shorter), and the current
 * period of each periodic benefit (later periods come from the periodic job). Everything that
 * expires with the term is revoked at its end by the term-end job.
 */
export function planVip88Grants(catalogue: Catalogue, term: Vip88Term, now: Date): PlannedGrant[] {
  const termEnd = term.expiresAt;
  return vip88Bundle(catalogue).flatMap((benefit): PlannedGrant[] => {
    const key = vip88GrantKey(term.activationId);
    switch (benefit.kind) {
      case 'status':
        return [
          {
            benefitId: benefit.id,
            kind: 'status',
            grantKey: key,
            period: null,
            expiresAt: termEnd,
            endsWithTerm: true,
          },
        ];
      case 'one-time': {
        if (benefit.fulfilment.type !== 'voucher') return [];
        const own = new Date(now.getTime() + benefit.fulfilment.validDays * DAY_MS);
        const endsWithTerm = own.getTime() >= termEnd.getTime();
        const expiresAt = endsWithTerm ? termEnd : own;
        return [
          { benefitId: benefit.id, kind: 'one-time', grantKey: key, period: null, expiresAt, endsWithTerm },
        ];
      }
      case 'periodic': {
        const period = periodOf(benefit.cadence, now);
        const endsWithTerm = termEnd.getTime() <= period.end.getTime();
        return [
          {
            benefitId: benefit.id,
            kind: 'periodic',
            grantKey: vip88GrantKey(term.activationId, period.key),
            period: period.key,
            expiresAt: endsWithTerm ? termEnd : period.end,
            endsWithTerm,
          },
        ];
      }
      default:
        return [];
    }
  });
}
