import { Errors, type Logger, retry } from '@taobi/platform';
import { parseRuleSet, type RuleSet, type RuleSetVersion, ruleSetInForce, withValidity } from '@taobi/rules';

/**
 * The rule sets tier decides with (docs/adr/0006). Scoring owns the registry; tier never decides
 * which version is in force, it reads scoring's `GET /v1/rules/versions` and keeps a copy:
 *
 * - an upgrade is judged by the thresholds of the version that produced the score (the record's
 *   `ruleVersion`); a version tier has not seen is fetched first;
 * - an evaluation fetches the registry afresh and uses the version in force at its `asOf`;
 * - reads and forecasts use the copy, refreshed every `refreshMs`.
 *
 * `file` mode (tests, a single-version deployment without adoptions) uses the configured rule set
 * alone, in force since forever.
 */
export interface TierRuleSets {
  /** The rule set in force at `at`, from the copy. */
  at(at: Date): RuleSet;
  /** Every version in the copy, oldest first. */
  versions(): RuleSetVersion[];
  /**
   * A version by name, fetching the registry when it is not in the copy; undefined when scoring's
   * registry does not have it either. Throws (503) when the registry cannot be read.
   */
  byVersion(version: string): Promise<RuleSet | undefined>;
  /**
   * Fetches the registry now (an evaluation does, so it never runs on a stale copy), trying for a
   * while when scoring does not answer yet; then 503.
   */
  refresh(): Promise<void>;
  /** Starts keeping the copy fresh (a first fetch, then every `refreshMs`). */
  start(): void;
  stop(): void;
}

const SINCE_FOREVER = new Date(0);

function single(ruleSet: RuleSet): RuleSetVersion[] {
  return withValidity([
    {
      ruleSet,
      effectiveFrom: SINCE_FOREVER,
      adoptedAt: SINCE_FOREVER,
      origin: 'configured',
      backtestId: null,
    },
  ]);
}

export function fileRuleSets(configured: RuleSet): TierRuleSets {
  const versions = single(configured);
  return {
    at: () => configured,
    versions: () => versions,
    async byVersion(version) {
      // One rule set: a score of another version (a test's record) is judged by it all the same.
      void version;
      return configured;
    },
    async refresh() {},
    start() {},
    stop() {},
  };
}

interface VersionsAnswer {
  versions: {
    version: string;
    effectiveFrom: string;
    origin: 'configured' | 'adopted';
    adoptedAt: string;
    backtestId: string | null;
    score: unknown;
    tiers: unknown;
    evaluation: unknown;
  }[];
}

/**
 * The copy of scoring's registry. Until the first fetch succeeds the configured rule set stands in
 * for reads; a record of the configured version is judged by the configured file (the same
 * content: scoring refuses a version registered with other content), any other waits for scoring.
 */
export function scoringRuleSets(options: {
  url: string;
  key: string;
  configured: RuleSet;
  refreshMs: number;
  timeoutMs?: number;
  /** How long `refresh` keeps trying before it gives up (503). */
  waitMs?: number;
  logger: Logger;
}): TierRuleSets {
  const log = options.logger.child({ component: 'rule-sets', from: options.url });
  let versions: RuleSetVersion[] | undefined;
  let inFlight: Promise<void> | undefined;

  async function fetchVersions(): Promise<void> {
    const response = await fetch(`${options.url}/v1/rules/versions`, {
      headers: { authorization: `Bearer ${options.key}` },
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
    });
    if (!response.ok) throw new Error(`scoring answered ${response.status} for /v1/rules/versions`);
    const body = (await response.json()) as VersionsAnswer;
    const fetched = withValidity(
      body.versions.map((v) => ({
        ruleSet: parseRuleSet({
          version: v.version,
          score: v.score,
          tiers: v.tiers,
          evaluation: v.evaluation,
        }),
        effectiveFrom: new Date(v.effectiveFrom),
        adoptedAt: new Date(v.adoptedAt),
        origin: v.origin,
        backtestId: v.backtestId,
      })),
    );
    if (fetched.length === 0) throw new Error('scoring answered an empty rule-set registry');
    versions = fetched;
  }

  function refresh(): Promise<void> {
    inFlight ??= fetchVersions().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  let timer: NodeJS.Timeout | undefined;

  const find = (version: string) => versions?.find((v) => v.ruleSet.version === version)?.ruleSet;

  return {
    at: (at) => (versions ? ruleSetInForce(versions, at).ruleSet : options.configured),
    versions: () => versions ?? single(options.configured),
    async byVersion(version) {
      const known =
        find(version) ?? (version === options.configured.version ? options.configured : undefined);
      if (known) return known;
      try {
        await refresh();
      } catch (error) {
        throw Errors.unavailable(
          `rule set ${version} is unknown and scoring's registry cannot be read`,
          5,
          error,
        );
      }
      return find(version);
    },
    async refresh() {
      // Services start together: an evaluation caught up at boot waits a little for scoring.
      try {
        return await retry(refresh, {
          attempts: Number.POSITIVE_INFINITY,
          deadlineMs: options.waitMs ?? 20_000,
          delayMs: 500,
          factor: 1,
        });
      } catch (error) {
        throw Errors.unavailable("scoring's rule-set registry cannot be read", 5, error);
      }
    },
    start() {
      refresh().catch((error: unknown) =>
        log.warn({ err: error }, 'rule-set registry not fetched at start; retrying'),
      );
      timer = setInterval(() => {
        refresh().catch((error: unknown) => log.warn({ err: error }, 'rule-set registry not refreshed'));
      }, options.refreshMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
