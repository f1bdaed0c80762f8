import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import { sharedMetric } from './metrics';

/**
 * A Redis read model whose writes carry a version: a write with a version not newer than the
 * stored one is ignored, atomically, so a late or replayed write never overwrites newer state.
 * Each entry is one string `<version>:<encoded value>` under `<namespace>:<id>` (plus the client's
 * prefix): a string costs Redis less than a hash of two fields (issue 16's footprint: ~590 bytes
 * per scoring entry as a `{ version, value }` hash of JSON, ~200 as a packed string), and a
 * `codec` may pack the value tighter than JSON. An entry left as a hash by an older build is
 * replaced by the next write and read as absent meanwhile (and it expires).
 *
 * Every entry lives at most `ttlMs` after it was written. That is what bounds staleness: a write
 * that never reached Redis (Redis down or unreachable, a process killed between its Postgres commit
 * and its Redis write, an invalidation that failed) leaves an older entry behind, and no repair
 * list kept by one process can reach it for certain, but the entry expires and the next read goes
 * to Postgres, the system of record, and writes the entry again. A write refused as not newer does
 * not extend the entry's life.
 */
const WRITE_IF_NEWER = `
local written = 0
for i, key in ipairs(KEYS) do
  local version = ARGV[2 * i]
  local newer = true
  if redis.call('TYPE', key).ok == 'string' then
    local current = tonumber(string.match(redis.call('GET', key), '^(%d+):'))
    newer = not (current and current >= tonumber(version))
  end
  if newer then
    redis.call('SET', key, version .. ':' .. ARGV[2 * i + 1], 'PX', ARGV[1])
    written = written + 1
  end
end
return written`;

/**
 * Entries per script call: one call per entry cost the client more than the writes (a command
 * object, its reply and promise each); a bounded call keeps Redis free for other clients between
 * calls (a script runs alone).
 */
const ENTRIES_PER_CALL = 500;

type WithWriteIfNewer = Redis & {
  taobiWriteIfNewerMany(numberOfKeys: number, ...keysThenArgs: (string | number)[]): Promise<number>;
};

export interface VersionedEntry<T> {
  id: string;
  version: number;
  value: T;
}

/** How a read model's values are stored: JSON unless the model packs them tighter. */
export interface ValueCodec<T> {
  encode(value: T): string;
  /** `entry` gives back what the key and the version prefix hold, so the value may omit them. */
  decode(text: string, entry: { id: string; version: number }): T;
}

const JSON_CODEC: ValueCodec<never> = {
  encode: (value) => JSON.stringify(value),
  decode: (text) => JSON.parse(text) as never,
};

export interface VersionedStore<T> {
  /**
   * Writes each entry unless Redis holds the same or a newer version; one round trip for all.
   * Resolves to how many entries were written.
   */
  writeIfNewer(entries: readonly VersionedEntry<T>[]): Promise<number>;
  read(id: string): Promise<VersionedEntry<T> | undefined>;
  /** Removes entries (tests, repairs, and invalidating entries whose source row changed unversioned). */
  remove(...ids: string[]): Promise<void>;
}

export function createVersionedStore<T>(
  redis: Redis,
  namespace: string,
  options: { ttlMs: number; codec?: ValueCodec<T> },
): VersionedStore<T> {
  const client = redis as WithWriteIfNewer;
  if (typeof client.taobiWriteIfNewerMany !== 'function') {
    // KEYS: the entries' keys; ARGV: the TTL (ms), then each entry's version and encoded value.
    redis.defineCommand('taobiWriteIfNewerMany', { lua: WRITE_IF_NEWER });
  }
  const codec = options.codec ?? (JSON_CODEC as ValueCodec<T>);
  const key = (id: string) => `${namespace}:${id}`;
  return {
    async writeIfNewer(entries) {
      if (entries.length === 0) return 0;
      const pipeline = redis.pipeline() as ReturnType<Redis['pipeline']> & {
        taobiWriteIfNewerMany(numberOfKeys: number, ...keysThenArgs: (string | number)[]): unknown;
      };
      for (let start = 0; start < entries.length; start += ENTRIES_PER_CALL) {
        const chunk = entries.slice(start, start + ENTRIES_PER_CALL);
        const keys: string[] = [];
        const args: (string | number)[] = [options.ttlMs];
        for (const entry of chunk) {
          keys.push(key(entry.id));
          args.push(entry.version, codec.encode(entry.value));
        }
        pipeline.taobiWriteIfNewerMany(keys.length, ...keys, ...args);
      }
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error);
      if (failed?.[0]) throw failed[0];
      return (results ?? []).reduce((sum, [, written]) => sum + Number(written), 0);
    },
    async read(id) {
      const stored = await redis.get(key(id)).catch((error: Error) => {
        // An entry an older build wrote as a hash: absent, until the next write replaces it.
        if (error.message.startsWith('WRONGTYPE')) return null;
        throw error;
      });
      if (stored === null) return undefined;
      const colon = stored.indexOf(':');
      const version = Number(stored.slice(0, colon));
      return { id, version, value: codec.decode(stored.slice(colon + 1), { id, version }) };
    },
    async remove(...ids) {
      if (ids.length > 0) await redis.del(...ids.map(key));
    },
  };
}

/**
 * `taobi_read_model_repairs_total{model,trigger}`: entries written to a Redis read model from
 * Postgres because Redis lacked them or held an older version: `read` (a read fell through to
 * Postgres and repaired the entry), `resync` (after a Redis outage), `refill` (the admin job).
 * A steady rate of `read` repairs means entries are being lost (flushes, evictions, missed writes).
 */
export function readModelRepairs(registry: Registry): Counter<'model' | 'trigger'> {
  return sharedMetric(
    registry,
    'taobi_read_model_repairs_total',
    (name) =>
      new Counter({
        name,
        help: 'Redis read-model entries rewritten from Postgres, by model and what triggered it (read, resync, refill)',
        labelNames: ['model', 'trigger'],
        registers: [registry],
      }),
  );
}
