import { type Source, sourceSchema } from '@taobi/contracts';
import { bearerToken, developmentIngestKey, Errors, KeySet, ownedKeyList } from '@taobi/platform';
import type { FastifyRequest } from 'fastify';
import { IngestErrors } from './errors';

/** A platform's key, as known after authentication. `keyId` (e.g. `food#2`) is safe to log. */
export interface SourceKey {
  readonly source: Source;
  readonly keyId: string;
}

export interface SourceKeyEntry {
  source: Source;
  key: string;
}

/** The development keys, one per source: `<source>:dev-<source>-key` (what INGEST_API_KEYS defaults to). */
export function developmentIngestKeys(sources: readonly Source[]): SourceKeyEntry[] {
  return sources.map((source) => ({ source, key: developmentIngestKey(source) }));
}

/**
 * `INGEST_API_KEYS`: comma-separated `<source>:<key>` pairs. A source may have several keys (to
 * rotate one without downtime); a key belongs to exactly one source. Every ingest service is given
 * every source's keys, so that a known key of another source is a 403, not a 401. Which sources
 * exist is the rule set's to say: `keySourceProblems` checks the entries against it.
 */
export const ingestKeysSchema = ownedKeyList('source', sourceSchema);

/**
 * What is wrong with the keys for a service of `own` source, given the sources of the rule set in
 * force: a key for a source the rule set does not have (a typo, or a retired line), or no key for
 * the service's own source. Empty when nothing is.
 */
export function keySourceProblems(
  entries: readonly SourceKeyEntry[],
  sources: readonly Source[],
  own: Source,
): string[] {
  const unknown = [...new Set(entries.map((e) => e.source).filter((source) => !sources.includes(source)))];
  return [
    ...unknown.map((source) => `a key for ${source}, which is not a source of the rule set`),
    ...(entries.some((entry) => entry.source === own) ? [] : [`no key for the ${own} source`]),
  ];
}

/** Source-bound bearer keys, compared in constant time (`KeySet`). */
export class SourceKeys {
  private readonly set: KeySet<SourceKey>;

  constructor(entries: readonly SourceKeyEntry[]) {
    const perSource = new Map<Source, number>();
    this.set = new KeySet(
      entries.map(({ source, key }) => {
        const n = (perSource.get(source) ?? 0) + 1;
        perSource.set(source, n);
        return [key, { source, keyId: `${source}#${n}` }] as const;
      }),
    );
  }

  /** The key's source and id; throws 401 for a missing or unknown key, 403 for another source. */
  authenticate(request: FastifyRequest, serviceSource: Source): SourceKey {
    const token = bearerToken(request);
    const key = token ? this.set.match(token) : undefined;
    if (!key) throw Errors.unauthorized();
    if (key.source !== serviceSource) throw IngestErrors.wrongSource(key.source, serviceSource);
    return key;
  }
}
