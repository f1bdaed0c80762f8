import { createVersionedStore, type Redis, type Registry, readModelRepairs } from '@taobi/platform';
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

export function createScoreCache(redis: Redis, ttlMs: number, metrics?: Registry): ScoreCache {
  const store = createVersionedStore<StoredScore>(redis, 'scoring:score', { ttlMs });
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
