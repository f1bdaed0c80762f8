import { isoTimeSchema, memberIdSchema, TIERS } from '@taobi/contracts';
import {
  type AccessControl,
  COMMON_ERRORS,
  cursorCodec,
  type Pool,
  pageLimit,
  pastInstant,
  routeTable,
} from '@taobi/platform';
import {
  addMonths,
  currentScore,
  forecastEvaluations,
  type MemberTier,
  nextEvaluationAt,
  type RuleSet,
  shanghaiDayStart,
  shanghaiMonth,
  tierTable,
  unseenMember,
} from '@taobi/rules';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { memberTierView } from '../domain/member-view';
import type { TierMetrics } from '../metrics';
import type { TierRuleSets } from '../rule-sets';
import { listDecisions } from '../store/decisions';
import { memberStateAt, tierDistribution } from '../store/members';
import type { TierReadModel } from '../store/read-model';
import {
  distributionSchema,
  forecastSchema,
  memberTierSchema,
  tierHistorySchema,
  tierTableSchema,
} from './api-schemas';

const memberParams = z.object({ id: memberIdSchema.describe('The member id') });
const tierQuery = z.strictObject({ asOf: isoTimeSchema.optional() });
const historyQuery = z.strictObject({
  limit: pageLimit(200, 50),
  /** Checked by the cursor's codec: anything it did not issue is INVALID_CURSOR. */
  cursor: z.string().optional(),
});

/**
 * The history's cursor: the revision of a page's last decision, `[revision]` in base64url. Only
 * what this API could have issued decodes (a positive safe integer that encodes back to the same
 * text); anything else is 400 INVALID_CURSOR.
 */
const historyCursor = cursorCodec(z.tuple([z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)]));

/** The next `count` evaluation instants after `after`, oldest first. */
function evaluationsAfter(after: Date, count: number, dayOfMonth: number): Date[] {
  const first = nextEvaluationAt(after, dayOfMonth);
  return Array.from({ length: count }, (_, i) =>
    shanghaiDayStart(addMonths(shanghaiMonth(first), i), dayOfMonth),
  );
}

/**
 * The read API (read key): the tier table, one member's tier as a member centre shows it (now, or
 * as the service had it at `asOf`), the member's decisions, the forecast of the next three
 * evaluations, and the distribution of members per tier for operators.
 */
export function registerReadRoutes(
  app: FastifyInstance,
  deps: {
    access: AccessControl;
    /** The evaluation calendar (every rule set keeps the configured one's). */
    calendar: RuleSet['evaluation'];
    ruleSets: TierRuleSets;
    /** `CLAWBACK_DAYS`: how long after an upgrade a refund takes it back (the policy, shown). */
    clawbackDays: number;
    readModel: TierReadModel;
    pool: Pool;
    metrics: TierMetrics;
    now: () => Date;
  },
): void {
  const { ruleSets, calendar } = deps;

  /** The member's current state, or a new member's. */
  async function currentState(memberId: string, now: Date): Promise<{ state: MemberTier; seen: boolean }> {
    const { member, source } = await deps.readModel.read(memberId);
    deps.metrics.reads.labels(source).inc();
    const state =
      member?.state ?? unseenMember(memberId, ruleSets.at(now).score.baseScore, now.toISOString());
    return { state, seen: member !== undefined };
  }

  const routes = routeTable(app, { tags: ['tiers'], onRequest: deps.access.require('read') });

  routes.get('/v1/tiers', tierTableSchema, {
    summary: 'The tier table in force',
    async handler() {
      const now = deps.now();
      const ruleSet = ruleSets.at(now);
      return {
        ruleVersion: ruleSet.version,
        tiers: tierTable(ruleSet.tiers.thresholds),
        downgrade: ruleSet.tiers.downgrade,
        clawbackDays: deps.clawbackDays,
        evaluation: {
          dayOfMonth: calendar.dayOfMonth,
          timeZone: 'Asia/Shanghai',
          nextAt: nextEvaluationAt(now, calendar.dayOfMonth).toISOString(),
        },
      };
    },
  });

  routes.get('/v1/tiers/distribution', distributionSchema, {
    summary: 'Members per tier (operators)',
    async handler() {
      const counts = await tierDistribution(deps.pool);
      const tiers = TIERS.map((tier) => ({ tier, members: counts.get(tier) ?? 0 }));
      return {
        tiers,
        total: tiers.reduce((sum, row) => sum + row.members, 0),
        // Members the service has never seen are BRONZE too, but are not counted here.
        countsMembersSeen: true,
        asOf: deps.now().toISOString(),
      };
    },
  });

  routes.get('/v1/members/:id/tier', memberTierSchema, {
    summary: "A member's tier now, or as the service had it at `asOf`",
    request: { params: memberParams, query: tierQuery },
    errors: COMMON_ERRORS.badMemberOrAsOf,
    async handler({ params, query }) {
      const now = deps.now();
      if (query.asOf === undefined) {
        const { state, seen } = await currentState(params.id, now);
        return memberTierView(state, { ruleSet: ruleSets.at(now), now, seen });
      }
      // As of an instant: the state the service held then (processing time), or a new member's.
      const asOf = pastInstant(query.asOf, now);
      const stored = await memberStateAt(deps.pool, params.id, asOf);
      const ruleSet = ruleSets.at(asOf);
      const state = stored?.state ?? unseenMember(params.id, ruleSet.score.baseScore, asOf.toISOString());
      return {
        ...memberTierView(state, { ruleSet, now: asOf, seen: stored !== undefined }),
        asOf: asOf.toISOString(),
      };
    },
  });

  /** The member's tier decisions, newest first, kept forever. */
  routes.get('/v1/members/:id/tier/history', tierHistorySchema, {
    summary: "A member's tier decisions, newest first",
    request: { params: memberParams, query: historyQuery },
    errors: COMMON_ERRORS.badParameterOrCursor,
    async handler({ params, query }) {
      const before = query.cursor === undefined ? null : historyCursor.decode(query.cursor)[0];
      const decisions = await listDecisions(deps.pool, params.id, {
        beforeRevision: before,
        limit: query.limit + 1,
      });
      const page = decisions.slice(0, query.limit);
      const last = page.at(-1);
      return {
        memberId: params.id,
        decisions: page,
        nextCursor: decisions.length > query.limit && last ? historyCursor.encode([last.revision]) : null,
      };
    },
  });

  /**
   * The next three evaluations without new activity: what expires, the projected score and tier,
   * and the points to earn to keep the tier; the first that would move the member down.
   */
  routes.get('/v1/members/:id/forecast', forecastSchema, {
    summary: 'The next three evaluations without new activity',
    request: { params: memberParams },
    errors: COMMON_ERRORS.badParameter,
    async handler({ params }) {
      const now = deps.now();
      const { state } = await currentState(params.id, now);
      const after =
        state.lastEvaluationAsOf && Date.parse(state.lastEvaluationAsOf) > now.getTime()
          ? new Date(state.lastEvaluationAsOf)
          : now;
      const evaluations = evaluationsAfter(after, 3, calendar.dayOfMonth).map((at) => ({
        at: at.toISOString(),
        rules: ruleSets.at(at),
      }));
      return {
        memberId: params.id,
        tier: state.tier,
        score: currentScore(state),
        ...forecastEvaluations(state, evaluations),
      };
    },
  });
}
