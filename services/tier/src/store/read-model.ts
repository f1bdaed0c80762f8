import { createVersionedStore, type Logger, type Pool, type Redis } from '@taobi/platform';
import type { MemberTier } from '@taobi/rules';
import { readMember, type StoredMember } from './members';

export type ReadSource = 'redis' | 'postgres' | 'none';

export interface TierReadModel {
  /** A member's state from Redis, else from Postgres (repairing Redis), else undefined. */
  read(memberId: string): Promise<{ member: StoredMember | undefined; source: ReadSource }>;
  /** Writes committed states to Redis; a newer revision already there wins. Never throws. */
  refresh(members: readonly StoredMember[]): Promise<void>;
}

/**
 * Redis holds each member's tier state under `tier:member:<id>`, versioned by the row revision.
 * Postgres stays the system of record: Redis can be flushed or down and reads still answer.
 */
export function createTierReadModel(options: { redis: Redis; pool: Pool; logger: Logger }): TierReadModel {
  const log = options.logger.child({ component: 'read-model' });
  const store = createVersionedStore<MemberTier>(options.redis, 'tier:member');

  async function refresh(members: readonly StoredMember[]): Promise<void> {
    try {
      await store.writeIfNewer(
        members.map((m) => ({ id: m.state.memberId, version: m.revision, value: m.state })),
      );
    } catch (error) {
      log.warn({ err: error, members: members.length }, 'read model not refreshed (repaired on read)');
    }
  }

  return {
    refresh,
    async read(memberId) {
      try {
        const cached = await store.read(memberId);
        if (cached) return { member: { state: cached.value, revision: cached.version }, source: 'redis' };
      } catch (error) {
        log.debug({ err: error, memberId }, 'Redis read failed; reading Postgres');
      }
      const member = await readMember(options.pool, memberId);
      if (!member) return { member: undefined, source: 'none' };
      await refresh([member]);
      return { member, source: 'postgres' };
    },
  };
}
