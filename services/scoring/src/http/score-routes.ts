import { isoTimeSchema, memberIdSchema } from '@taobi/contracts';
import {
  type AccessControl,
  COMMON_ERRORS,
  documented,
  type Logger,
  type Pool,
  pageLimit,
  parseOr400,
  pastInstant,
  routeDocs,
} from '@taobi/platform';
import { emptyBreakdown, evaluationDueAt, type RuleSet, windowStartAfter } from '@taobi/rules';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { type ScoreView, type StoredScore, toView } from '../domain/score-view';
import { historyCursor, readHistory } from '../store/history';
import { readMemberScore } from '../store/members';
import type { RuleRegistry } from '../store/rule-sets';
import type { ScoreCache } from '../store/score-cache';
import { scoreAt, scoreVersions } from '../store/score-versions';
import { readWindowState } from '../store/window-state';
import { scoreHistorySchema, scoreSchema, scoreVersionsSchema } from './api-schemas';

export interface ScoreRoutesOptions {
  access: AccessControl;
  pool: Pool;
  cache: ScoreCache;
  registry: () => RuleRegistry;
  now: () => Date;
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

const tags = ['scores'];
const doc = routeDocs(tags);
const DOCS = {
  score: documented({
    summary: "A member's score now, or the version written at `asOf`",
    tags,
    params: paramsSchema,
    querystring: scoreQuerySchema,
    responses: {
      200: {
        description: scoreSchema.description as string,
        headers: {
          'x-read-source': { schema: { type: 'string', enum: ['redis', 'postgres', 'history', 'default'] } },
        },
        content: { 'application/json': { schema: scoreSchema } },
      },
    },
    errors: COMMON_ERRORS.badMemberOrAsOf,
  }),
  history: doc('What the score is made of: months, orders and refunds', scoreHistorySchema, {
    params: paramsSchema,
    querystring: historyQuerySchema,
    errors: COMMON_ERRORS.badParameterOrCursor,
  }),
  versions: doc("Every version of the member's score as written", scoreVersionsSchema, {
    params: paramsSchema,
    querystring: versionsQuerySchema,
    errors: COMMON_ERRORS.badParameter,
  }),
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
  const guard = options.access.require('read');
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

  app.get('/v1/members/:id/score', { onRequest: guard, schema: DOCS.score }, async (request, reply) => {
    const { id } = parseOr400(paramsSchema, request.params);
    const query = parseOr400(scoreQuerySchema, request.query);
    if (query.asOf === undefined) {
      const { view, source } = await readScore(id);
      return reply.header('x-read-source', source).send(view);
    }
    const asOf = pastInstant(query.asOf, options.now());
    const { view, source } = await readScoreAt(id, asOf);
    return reply.header('x-read-source', source).send({ ...view, asOf: asOf.toISOString() });
  });

  app.get('/v1/members/:id/score/history', { onRequest: guard, schema: DOCS.history }, async (request) => {
    const { id } = parseOr400(paramsSchema, request.params);
    const query = parseOr400(historyQuerySchema, request.query);
    const rules = options.registry().inForce(options.now()).ruleSet;
    const cursor = query.cursor === undefined ? undefined : historyCursor(rules).decode(query.cursor);
    return readHistory(options.pool, id, { limit: query.limit, cursor }, rules);
  });

  /**
   * Every version of the member's score as written, oldest first: what as-of reads answer from and
   * what `pnpm taobi replay` checks against the log.
   */
  app.get('/v1/members/:id/score/versions', { onRequest: guard, schema: DOCS.versions }, async (request) => {
    const { id } = parseOr400(paramsSchema, request.params);
    const query = parseOr400(versionsQuerySchema, request.query);
    const versions = await scoreVersions(options.pool, id, query, rulesOf);
    return {
      memberId: id,
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
  });
}
