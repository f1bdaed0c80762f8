import { isoTimeSchema, memberIdSchema } from '@taobi/contracts';
import { COMMON_ERRORS, type Logger, pageLimit, pastInstant, routeTable } from '@taobi/platform';
import { emptyBreakdown, evaluationDueAt, type RuleSet, windowStartAfter } from '@taobi/rules';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { type ScoreView, type StoredScore, toView } from '../domain/score-view';
import { historyCursor, readHistory } from '../store/history';
import { readMemberScore } from '../store/members';
import type { ScoreCache } from '../store/score-cache';
import { scoreAt, scoreVersions } from '../store/score-versions';
import { readWindowState } from '../store/window-state';
import { scoreHistorySchema, scoreSchema, scoreVersionsSchema } from './api-schemas';
import type { RouteContext } from './context';

export interface ScoreRoutesOptions extends RouteContext {
  cache: ScoreCache;
  logger: Logger;
}

const paramsSchema = z.object({ id: memberIdSchema });
const scoreQuerySchema = z.strictObject({ asOf: isoTimeSchema.optional() });
const historyQuerySchema = z
  .object({
    limit: pageLimit(500, 100),
    /** Checked by the cursor's codec: anything it did not issue is INVALID_CURSOR. */
    cursor: z.string().optional(),
  })
  .strict();
const versionsQuerySchema = z.strictObject({
  limit: pageLimit(1000, 200),
  /** Keyset paging: versions after this one (the `nextAfter` of the previous page). */
  after: z.coerce.number().int().min(0).max(2_147_483_647).default(0),
});

/** The score, and which store answered it. */
const scoreAnswer = {
  description: scoreSchema.description as string,
  headers: {
    'x-read-source': { schema: { type: 'string', enum: ['redis', 'postgres', 'history', 'default'] } },
  },
  content: { 'application/json': { schema: scoreSchema } },
};

/**
 * Read APIs (read key). The score comes from Redis; when Redis has nothing (flushed, evicted, never
 * written) or is unreachable, from Postgres, and the entry is written back so the next read hits.
 * `x-read-source` says which answered: `redis`, `postgres`, or `default` (a member never seen has
 * the base score: every shopper is a member). With `?asOf=` the answer is the version the service
 * had written at that instant (`x-read-source: history`), from `score_versions`.
 */
export function registerScoreRoutes(app: FastifyInstance, options: ScoreRoutesOptions): void {
  const log = options.logger.child({ component: 'score-api' });
  const rulesOf = (version: string): RuleSet => {
    const registry = options.registry();
    return (
      registry.versions().find((v) => v.ruleSet.version === version)?.ruleSet ??
      registry.inForce(options.now()).ruleSet
    );
  };

  /** A member never seen at `at`: the base score of the rule set then, the window then. */
  function newMember(memberId: string, at: Date, windowFrom: string): StoredScore {
    const rules = options.registry().inForce(at).ruleSet;
    return {
      memberId,
      version: 0,
      score: rules.score.baseScore,
      breakdown: emptyBreakdown(rules.score),
      windowFrom,
      ruleVersion: rules.version,
      updatedAt: at.toISOString(),
      expiringAtNextEvaluation: null,
    };
  }

  async function readScore(memberId: string): Promise<{ view: ScoreView; source: string }> {
    const now = options.now();
    const rules = options.registry().inForce(now).ruleSet;
    const cached = await options.cache.read(memberId).catch((error: unknown) => {
      log.warn({ err: error, memberId }, 'Redis read failed; reading Postgres');
      return undefined;
    });
    if (cached) return { view: toView(cached, now, rules), source: 'redis' };
    const stored = await readMemberScore(options.pool, memberId, rules);
    if (stored) {
      await options.cache.repair([stored], 'read').catch((error: unknown) => {
        log.warn({ err: error, memberId }, 'could not repair the Redis read model');
      });
      return { view: toView(stored, now, rules), source: 'postgres' };
    }
    const window = await readWindowState(options.pool, now, rules);
    const fresh = newMember(memberId, now, window.windowFrom);
    return { view: { ...toView(fresh, now, rules), updatedAt: null }, source: 'default' };
  }

  async function readScoreAt(memberId: string, asOf: Date): Promise<{ view: ScoreView; source: string }> {
    const rules = options.registry().inForce(asOf).ruleSet;
    const stored = await scoreAt(options.pool, memberId, asOf, rulesOf);
    if (stored) return { view: toView(stored, asOf, rules), source: 'history' };
    const windowFrom = windowStartAfter(evaluationDueAt(asOf, rules.evaluation), rules.evaluation);
    const fresh = newMember(memberId, asOf, windowFrom);
    return { view: { ...toView(fresh, asOf, rules), updatedAt: null }, source: 'default' };
  }

  const routes = routeTable(app, { tags: ['scores'], onRequest: options.access.require('read') });

  routes.get('/v1/members/:id/score', scoreAnswer, {
    summary: "A member's score now, or the version written at `asOf`",
    request: { params: paramsSchema, query: scoreQuerySchema },
    errors: COMMON_ERRORS.badMemberOrAsOf,
    async handler({ params, query }, _request, reply) {
      if (query.asOf === undefined) {
        const { view, source } = await readScore(params.id);
        return reply.header('x-read-source', source).send(view);
      }
      const asOf = pastInstant(query.asOf, options.now());
      const { view, source } = await readScoreAt(params.id, asOf);
      return reply.header('x-read-source', source).send({ ...view, asOf: asOf.toISOString() });
    },
  });

  routes.get('/v1/members/:id/score/history', scoreHistorySchema, {
    summary: 'What the score is made of: months, orders and refunds',
    request: { params: paramsSchema, query: historyQuerySchema },
    errors: COMMON_ERRORS.badParameterOrCursor,
    async handler({ params, query }) {
      const rules = options.registry().inForce(options.now()).ruleSet;
      const cursor = query.cursor === undefined ? undefined : historyCursor(rules).decode(query.cursor);
      const ruleSetOf = (version: string) => options.registry().byVersion(version);
      return readHistory(options.pool, params.id, { limit: query.limit, cursor }, rules, ruleSetOf);
    },
  });

  /**
   * Every version of the member's score as written, oldest first: what as-of reads answer from and
   * what `pnpm taobi replay` checks against the log.
   */
  routes.get('/v1/members/:id/score/versions', scoreVersionsSchema, {
    summary: "Every version of the member's score as written",
    request: { params: paramsSchema, query: versionsQuerySchema },
    errors: COMMON_ERRORS.badParameter,
    async handler({ params, query }) {
      const versions = await scoreVersions(options.pool, params.id, query, rulesOf);
      return {
        memberId: params.id,
        versions: versions.map((v) => ({
          version: v.version,
          score: v.score,
          breakdown: v.breakdown,
          windowFrom: v.windowFrom,
          ruleVersion: v.ruleVersion,
          reason: v.reason,
          committedAt: v.updatedAt,
          expiringAtNextEvaluation: v.expiringAtNextEvaluation,
          logPosition: v.logPosition,
        })),
        nextAfter: versions.length === query.limit ? (versions.at(-1)?.version ?? null) : null,
      };
    },
  });
}
