import { memberIdSchema } from '@taobi/contracts';
import { type AccessControl, Errors, fieldErrorsFromZod, type Logger, type Pool } from '@taobi/platform';
import { emptyBreakdown, type RuleSet } from '@taobi/rules';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { type ScoreView, type StoredScore, toView } from '../domain/score-view';
import { historyCursor, readHistory } from '../store/history';
import { readMemberScore } from '../store/members';
import type { ScoreCache } from '../store/score-cache';
import { readWindowState } from '../store/window-state';

export interface ScoreRoutesOptions {
  access: AccessControl;
  pool: Pool;
  cache: ScoreCache;
  rules: RuleSet;
  now: () => Date;
  logger: Logger;
}

const paramsSchema = z.object({ id: memberIdSchema });
const historyQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    /** Checked by the cursor's codec: anything it did not issue is INVALID_CURSOR. */
    cursor: z.string().optional(),
  })
  .strict();

function parse<T>(schema: z.ZodType<T>, value: unknown, prefix: string): T {
  const result = schema.safeParse(value ?? {});
  if (!result.success)
    throw Errors.validation(fieldErrorsFromZod(result.error.issues, prefix ? [prefix] : []));
  return result.data;
}

/**
 * Read APIs (read key). The score comes from Redis; when Redis has nothing (flushed, evicted, never
 * written) or is unreachable, from Postgres, and the entry is written back so the next read hits.
 * `x-read-source` says which answered: `redis`, `postgres`, or `default` (a member never seen has
 * the base score: every shopper is a member).
 */
export function registerScoreRoutes(app: FastifyInstance, options: ScoreRoutesOptions): void {
  const log = options.logger.child({ component: 'score-api' });
  const guard = options.access.require('read');

  async function readScore(memberId: string): Promise<{ view: ScoreView; source: string }> {
    const now = options.now();
    const cached = await options.cache.read(memberId).catch((error: unknown) => {
      log.warn({ err: error, memberId }, 'Redis read failed; reading Postgres');
      return undefined;
    });
    if (cached) return { view: toView(cached, now, options.rules), source: 'redis' };
    const stored = await readMemberScore(options.pool, memberId, options.rules);
    if (stored) {
      await options.cache.write([stored]).catch((error: unknown) => {
        log.warn({ err: error, memberId }, 'could not repair the Redis read model');
      });
      return { view: toView(stored, now, options.rules), source: 'postgres' };
    }
    const window = await readWindowState(options.pool, now, options.rules);
    const fresh: StoredScore = {
      memberId,
      version: 0,
      score: options.rules.score.baseScore,
      breakdown: emptyBreakdown(options.rules.score),
      windowFrom: window.windowFrom,
      ruleVersion: options.rules.version,
      updatedAt: now.toISOString(),
      expiringAtNextEvaluation: null,
    };
    return { view: { ...toView(fresh, now, options.rules), updatedAt: null }, source: 'default' };
  }

  app.get('/v1/members/:id/score', { onRequest: guard }, async (request, reply) => {
    const { id } = parse(paramsSchema, request.params, '');
    const { view, source } = await readScore(id);
    return reply.header('x-read-source', source).send(view);
  });

  app.get('/v1/members/:id/score/history', { onRequest: guard }, async (request) => {
    const { id } = parse(paramsSchema, request.params, '');
    const query = parse(historyQuerySchema, request.query, '');
    const cursor = query.cursor === undefined ? undefined : historyCursor(options.rules).decode(query.cursor);
    return readHistory(options.pool, id, { limit: query.limit, cursor }, options.rules);
  });
}
