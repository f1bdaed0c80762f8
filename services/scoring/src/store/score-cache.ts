import { SCORE_BREAKDOWN_V1_SOURCES, type ScoreBreakdown } from '@taobi/contracts';
import {
  createVersionedStore,
  type Redis,
  type Registry,
  readModelRepairs,
  type ValueCodec,
} from '@taobi/platform';
import type { StoredScore } from '../domain/score-view';

/**
 * The Redis read model of members' scores: one versioned entry per member (`scoring:score:<id>`
 * under the service's key prefix), living `ttlMs` at most. A write never replaces a newer version;
 * Postgres stays the system of record, so a flushed or unreachable Redis only costs a fallback
 * read, and an entry a lost write left behind is gone within `ttlMs`.
 */
export interface ScoreCache {
  /** Writes what is newer than the cache holds; resolves to how many entries were written. */
  write(scores: readonly StoredScore[]): Promise<number>;
  /** Writes entries read from Postgres (a read fell through, or the refill job), counting them as repairs. */
  repair(scores: readonly StoredScore[], trigger: 'read' | 'refill'): Promise<number>;
  read(memberId: string): Promise<StoredScore | undefined>;
  /** Drops entries whose Postgres row changed without a new version (evaluation, rebuild). */
  invalidate(memberIds: readonly string[]): Promise<void>;
}

const FIXED = ['base', ...SCORE_BREAKDOWN_V1_SOURCES] as const;

/**
 * A score packed as a JSON array (issue 16's footprint: about a quarter of the object's bytes):
 * `[score, windowFrom, ruleVersion, updatedAt ms, expiring points, expiring at ms, base,
 * ecommerce, food, travel, mobility, ...further source, points]`; memberId and version are the
 * key's and the entry's. No expiring outlook is `null, null`.
 */
export const packedScore: ValueCodec<StoredScore> = {
  encode(s) {
    const further = Object.entries(s.breakdown).filter(
      ([source]) => !(FIXED as readonly string[]).includes(source),
    );
    const expiring = s.expiringAtNextEvaluation;
    return JSON.stringify([
      s.score,
      s.windowFrom,
      s.ruleVersion,
      Date.parse(s.updatedAt),
      expiring ? expiring.points : null,
      expiring ? Date.parse(expiring.evaluationAt) : null,
      ...FIXED.map((source) => s.breakdown[source] ?? 0),
      ...further.flat(),
    ]);
  },
  decode(text, { id, version }) {
    const packed = JSON.parse(text) as (string | number | null)[];
    const [score, windowFrom, ruleVersion, updatedAt, points, evaluationAt] = packed;
    const breakdown: Record<string, number> = {};
    FIXED.forEach((source, i) => {
      breakdown[source] = packed[6 + i] as number;
    });
    for (let i = 6 + FIXED.length; i + 1 < packed.length; i += 2)
      breakdown[packed[i] as string] = packed[i + 1] as number;
    return {
      memberId: id,
      version,
      score: score as number,
      breakdown: breakdown as ScoreBreakdown,
      windowFrom: windowFrom as StoredScore['windowFrom'],
      ruleVersion: ruleVersion as string,
      updatedAt: new Date(updatedAt as number).toISOString(),
      expiringAtNextEvaluation:
        points === null
          ? null
          : { points: points as number, evaluationAt: new Date(evaluationAt as number).toISOString() },
    };
  },
};

export function createScoreCache(redis: Redis, ttlMs: number, metrics?: Registry): ScoreCache {
  const store = createVersionedStore<StoredScore>(redis, 'scoring:score', { ttlMs, codec: packedScore });
  const repairs = metrics ? readModelRepairs(metrics) : undefined;
  const write = (scores: readonly StoredScore[]) =>
    store.writeIfNewer(scores.map((s) => ({ id: s.memberId, version: s.version, value: s })));
  return {
    write,
    async repair(scores, trigger) {
      const written = await write(scores);
      repairs?.labels('scoring:score', trigger).inc(written);
      return written;
    },
    read: async (memberId) => (await store.read(memberId))?.value,
    invalidate: (memberIds) => store.remove(...memberIds),
  };
}
