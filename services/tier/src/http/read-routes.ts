import { isoTimeSchema, memberIdSchema, TIERS } from '@taobi/contracts';
import {
  type AccessControl,
  COMMON_ERRORS,
  cursorCodec,
  type Pool,
  pageLimit,
  parseOr400,
  pastInstant,
  routeDocs,
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

const doc = routeDocs(['tiers']);

/** The read routes' OpenAPI entries: their request schemas are those the handlers parse with. */
const DOCS = {
  tiers: doc('The tier table in force', tierTableSchema),
  distribution: doc('Members per tier (operators)', distributionSchema),
  memberTier: doc("A member's tier now, or as the service had it at `asOf`", memberTierSchema, {
    params: memberParams,
    querystring: tierQuery,
    errors: COMMON_ERRORS.badMemberOrAsOf,
  }),
  history: doc("A member's tier decisions, newest first", tierHistorySchema, {
    params: memberParams,
    querystring: historyQuery,
    errors: COMMON_ERRORS.badParameterOrCursor,
  }),
  forecast: doc('The next three evaluations without new activity', forecastSchema, {
    params: memberParams,
    errors: COMMON_ERRORS.badParameter,
  }),
};

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
  const onRequest = deps.access.require('read');

  /** The member's current state, or a new member's. */
  async function currentState(memberId: string, now: Date): Promise<{ state: MemberTier; seen: boolean }> {
    const { member, source } = await deps.readModel.read(memberId);
    deps.metrics.reads.labels(source).inc();
    const state =
      member?.state ?? unseenMember(memberId, ruleSets.at(now).score.baseScore, now.toISOString());
    return { state, seen: member !== undefined };
  }

  app.get('/v1/tiers', { onRequest, schema: DOCS.tiers }, async () => {
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
  });

  app.get('/v1/tiers/distribution', { onRequest, schema: DOCS.distribution }, async () => {
    const counts = await tierDistribution(deps.pool);
    const tiers = TIERS.map((tier) => ({ tier, members: counts.get(tier) ?? 0 }));
    return {
      tiers,
      total: tiers.reduce((sum, row) => sum + row.members, 0),
      // Members the service has never seen are BRONZE too, but are not counted here.
      countsMembersSeen: true,
      asOf: deps.now().toISOString(),
    };
  });

  app.get('/v1/members/:id/tier', { onRequest, schema: DOCS.memberTier }, async (request) => {
    const memberId = parseOr400(memberParams, request.params).id;
    const query = parseOr400(tierQuery, request.query);
    const now = deps.now();
    if (query.asOf === undefined) {
      const { state, seen } = await currentState(memberId, now);
      return memberTierView(state, { ruleSet: ruleSets.at(now), now, seen });
    }
    // As of an instant: the state the service held then (processing time), or a new member's.
    const asOf = pastInstant(query.asOf, now);
    const stored = await memberStateAt(deps.pool, memberId, asOf);
    const ruleSet = ruleSets.at(asOf);
    const state = stored?.state ?? unseenMember(memberId, ruleSet.score.baseScore, asOf.toISOString());
    return {
      ...memberTierView(state, { ruleSet, now: asOf, seen: stored !== undefined }),
      asOf: asOf.toISOString(),
    };
  });

  /** The member's tier decisions, newest first, kept forever. */
  app.get('/v1/members/:id/tier/history', { onRequest, schema: DOCS.history }, async (request) => {
    const memberId = parseOr400(memberParams, request.params).id;
    const query = parseOr400(historyQuery, request.query);
    const before = query.cursor === undefined ? null : historyCursor.decode(query.cursor)[0];
    const decisions = await listDecisions(deps.pool, memberId, {
      beforeRevision: before,
      limit: query.limit + 1,
    });
    const page = decisions.slice(0, query.limit);
    const last = page.at(-1);
    return {
      memberId,
      decisions: page,
      nextCursor: decisions.length > query.limit && last ? historyCursor.encode([last.revision]) : null,
    };
  });

  /**
   * The next three evaluations without new activity: what expires, the projected score and tier,
   * and the points to earn to keep the tier; the first that would move the member down.
   */
  app.get('/v1/members/:id/forecast', { onRequest, schema: DOCS.forecast }, async (request) => {
    const memberId = parseOr400(memberParams, request.params).id;
    const now = deps.now();
    const { state } = await currentState(memberId, now);
    const after =
      state.lastEvaluationAsOf && Date.parse(state.lastEvaluationAsOf) > now.getTime()
        ? new Date(state.lastEvaluationAsOf)
        : now;
    const evaluations = evaluationsAfter(after, 3, calendar.dayOfMonth).map((at) => ({
      at: at.toISOString(),
      rules: ruleSets.at(at),
    }));
    return {
      memberId,
      tier: state.tier,
      score: currentScore(state),
      ...forecastEvaluations(state, evaluations),
    };
  });
}
