import {
  createVersionedStore,
  type Logger,
  type Pool,
  type Redis,
  type Registry,
  readModelRepairs,
} from '@taobi/platform';
import type { MemberTier } from '@taobi/rules';
import { membersUpdatedSince, readMember, type StoredMember } from './members';

export type ReadSource = 'redis' | 'postgres' | 'none';

export interface TierReadModel {
  /** A member's state from Redis, else from Postgres (repairing Redis), else undefined. */
  read(memberId: string): Promise<{ member: StoredMember | undefined; source: ReadSource }>;
  /** Writes committed states to Redis; a newer revision already there wins. Never throws. */
  refresh(members: readonly StoredMember[]): Promise<void>;
  /** Resolves when a resync in progress (after an outage) is done; for tests and shutdown. */
  settled(): Promise<void>;
}

/** How far before the first missed write the resync looks, for transactions in flight then. */
const RESYNC_MARGIN_MS = 60_000;
const RESYNC_PAGE = 1000;

/**
 * Redis holds each member's tier state under `tier:member:<id>`, versioned by the row revision.
 * Postgres stays the system of record: Redis can be flushed or down and reads still answer.
 *
 * ioredis queues commands while it reconnects, so a command sent during an outage waits through its
 * reconnection attempts (seconds). Reads and writes therefore go to Redis only while the client is
 * connected, and straight to Postgres otherwise. A write missed meanwhile leaves an older entry in
 * Redis for at most `ttlMs` (every entry expires; that is the guarantee, and it survives restarts
 * and other instances). To converge sooner, this process remembers its first missed write and,
 * when the client is ready again, writes every member changed since then again (version-checked,
 * so nothing newer is overwritten).
 */
export function createTierReadModel(options: {
  redis: Redis;
  pool: Pool;
  logger: Logger;
  /** Longest life of an entry: how long a lost write can leave an older state readable. */
  ttlMs: number;
  /** Where repairs (`taobi_read_model_repairs_total{model="tier:member"}`) are counted. */
  metrics?: Registry;
}): TierReadModel {
  const { redis, pool } = options;
  const log = options.logger.child({ component: 'read-model' });
  const store = createVersionedStore<MemberTier>(redis, 'tier:member', { ttlMs: options.ttlMs });
  const repairs = options.metrics ? readModelRepairs(options.metrics) : undefined;
  let missedSince: number | null = null;
  let resyncing: Promise<void> = Promise.resolve();

  function available(): boolean {
    // A lazy client that never connected is nudged; this read still goes to Postgres.
    if (redis.status === 'wait') redis.connect().catch(() => undefined);
    return redis.status === 'ready';
  }

  function missed(): void {
    missedSince ??= Date.now();
  }

  async function write(members: readonly StoredMember[]): Promise<number> {
    return store.writeIfNewer(
      members.map((m) => ({ id: m.state.memberId, version: m.revision, value: m.state })),
    );
  }

  async function refresh(members: readonly StoredMember[], repair?: 'read'): Promise<void> {
    if (members.length === 0) return;
    if (!available()) return missed();
    try {
      const written = await write(members);
      if (repair) repairs?.labels('tier:member', repair).inc(written);
    } catch (error) {
      missed();
      log.warn(
        { err: error, members: members.length },
        'read model not refreshed (resynced when Redis is back)',
      );
    }
  }

  async function resync(since: number): Promise<void> {
    let after: string | null = null;
    let written = 0;
    try {
      for (;;) {
        const page = await membersUpdatedSince(pool, new Date(since - RESYNC_MARGIN_MS), after, RESYNC_PAGE);
        if (page.length === 0) break;
        repairs?.labels('tier:member', 'resync').inc(await write(page));
        written += page.length;
        after = page.at(-1)?.state.memberId ?? null;
      }
      log.info({ members: written }, 'read model resynced after a Redis outage');
    } catch (error) {
      missedSince = Math.min(missedSince ?? since, since);
      log.warn({ err: error }, 'read model resync failed; retried when Redis is ready again');
    }
  }

  redis.on('ready', () => {
    if (missedSince === null) return;
    const since = missedSince;
    missedSince = null;
    resyncing = resyncing.then(() => resync(since));
  });

  return {
    refresh: (members) => refresh(members),
    settled: () => resyncing,
    async read(memberId) {
      if (available()) {
        try {
          const cached = await store.read(memberId);
          if (cached) return { member: { state: cached.value, revision: cached.version }, source: 'redis' };
        } catch (error) {
          log.debug({ err: error, memberId }, 'Redis read failed; reading Postgres');
        }
      }
      const member = await readMember(pool, memberId);
      if (!member) return { member: undefined, source: 'none' };
      await refresh([member], 'read');
      return { member, source: 'postgres' };
    },
  };
}
