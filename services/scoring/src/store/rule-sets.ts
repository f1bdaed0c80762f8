import { isDeepStrictEqual } from 'node:util';
import {
  AppError,
  ConfigError,
  Errors,
  type Logger,
  listenForNotifications,
  type NotificationListener,
  type Pool,
  withTransaction,
} from '@taobi/platform';
import { parseRuleSet, type RuleSet, type RuleSetVersion, ruleSetInForce, withValidity } from '@taobi/rules';
import type { Queryable } from './sql';

interface RuleSetRow {
  version: string;
  effective_from: Date;
  rule_set: unknown;
  origin: 'configured' | 'adopted';
  backtest_id: string | null;
  adopted_at: Date;
}

/**
 * The rule-set registry (`scoring.rule_sets`, docs/adr/0006) and the in-memory copy a scoring
 * process answers from. Versions never change once registered, so the copy is only ever extended:
 * it is reloaded when a version it does not know is named, and whenever a version is registered by
 * any process (each insert notifies `scoring_rule_sets`, delivered at its commit; the registry
 * listens on a connection of its own).
 */
export interface RuleRegistry {
  /** Every version, oldest first, with its validity. */
  versions(): RuleSetVersion[];
  /** The version in force at `at` (the first version before the programme's start). */
  inForce(at: Date): RuleSetVersion;
  /**
   * The rule set in force at `at` as the table says, so every instance switches at the same instant
   * whoever adopted the version. Answered from the copy while the registry listens on
   * `scoring_rule_sets` (a registration anywhere reloads it; a reload that a notification asked for
   * is awaited first), by one indexed query on `db` while it does not (the listener's connection is
   * down or not up yet).
   */
  current(db: Queryable, at: Date): Promise<RuleSet>;
  /** A version by name, reloading the registry if this process does not know it yet. */
  byVersion(version: string): Promise<RuleSet | undefined>;
  /** Registers an adopted rule set from `effectiveFrom` (an evaluation instant after `now`). */
  adopt(input: {
    ruleSet: RuleSet;
    effectiveFrom: Date;
    backtestId: string | null;
    now: Date;
  }): Promise<RuleSetVersion>;
  /** Stops listening (the copy stays; `current` queries again). */
  close(): Promise<void>;
}

const LOCK = 'taobi:scoring:rule-sets';
/** Notified by every insert into `scoring.rule_sets`, in the same statement (delivered at commit). */
export const RULE_SETS_CHANNEL = 'scoring_rule_sets';

function fromRow(row: RuleSetRow): Omit<RuleSetVersion, 'effectiveTo'> {
  return {
    ruleSet: parseRuleSet(row.rule_set),
    effectiveFrom: row.effective_from,
    adoptedAt: row.adopted_at,
    origin: row.origin,
    backtestId: row.backtest_id,
  };
}

async function load(db: Queryable): Promise<RuleSetVersion[]> {
  const { rows } = await db.query<RuleSetRow>('SELECT * FROM scoring.rule_sets ORDER BY effective_from');
  return withValidity(rows.map(fromRow));
}

/**
 * Seeds the registry with the configured rule set and loads it. An empty registry takes the file as
 * its first version, in force from `now` (the programme's start: the first boot). A configured
 * version the registry does not hold yet is registered in force from `now` (a deployment of a new
 * `RULE_SET_FILE`, then a rebuild: the immediate way, as before the registry). A configured version
 * the registry holds with other content refuses the boot: versions are immutable.
 */
export async function openRuleRegistry(
  pool: Pool,
  configured: RuleSet,
  now: Date,
  options: { logger?: Logger } = {},
): Promise<RuleRegistry> {
  await withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [LOCK]);
    const { rows } = await client.query<RuleSetRow>('SELECT * FROM scoring.rule_sets WHERE version = $1', [
      configured.version,
    ]);
    const held = rows[0];
    if (held) {
      if (!isDeepStrictEqual(parseRuleSet(held.rule_set), configured)) {
        throw new ConfigError([
          {
            variable: 'RULE_SET_FILE',
            message: `rule set ${configured.version} is registered with other content: a changed rule set needs a new version`,
          },
        ]);
      }
      return;
    }
    await client.query(
      `WITH added AS (
         INSERT INTO scoring.rule_sets (version, effective_from, rule_set, origin, adopted_at)
         VALUES ($1, $2, $3, 'configured', $2)
       )
       SELECT pg_notify($4, '')`,
      [configured.version, now, JSON.stringify(configured), RULE_SETS_CHANNEL],
    );
  });
  let versions = await load(pool);
  /** Registrations notified (and reconnects), and how many of them the copy reflects. */
  let notified = 0;
  let reflected = 0;
  let listening = false;
  let reloading: Promise<void> | undefined;

  async function reload(): Promise<void> {
    const upTo = notified;
    versions = await load(pool);
    reflected = Math.max(reflected, upTo);
  }

  /** Brings the copy up to the last notification (one reload at a time, shared by callers). */
  async function sync(): Promise<void> {
    while (reflected < notified) {
      reloading ??= reload().finally(() => {
        reloading = undefined;
      });
      await reloading;
    }
  }

  const logger = options.logger;
  const listener: NotificationListener | undefined = logger
    ? listenForNotifications({
        pool,
        channel: RULE_SETS_CHANNEL,
        logger,
        onNotify: () => {
          notified += 1;
          // Called once LISTEN holds on each (re)connect too: what was missed meanwhile is reloaded.
          listening = true;
          void sync().catch((error: unknown) =>
            logger.warn({ err: error }, 'could not reload the rule-set registry; the next fold retries'),
          );
        },
        onLost: () => {
          listening = false;
        },
      })
    : undefined;

  async function byVersion(version: string): Promise<RuleSet | undefined> {
    const known = versions.find((v) => v.ruleSet.version === version);
    if (known) return known.ruleSet;
    await reload();
    return versions.find((v) => v.ruleSet.version === version)?.ruleSet;
  }

  return {
    versions: () => versions,
    inForce: (at) => ruleSetInForce(versions, at),
    async current(db, at) {
      if (listening) {
        await sync();
        return ruleSetInForce(versions, at).ruleSet;
      }
      const { rows } = await db.query<{ version: string }>(
        `SELECT COALESCE(
           (SELECT version FROM scoring.rule_sets WHERE effective_from <= $1 ORDER BY effective_from DESC LIMIT 1),
           (SELECT version FROM scoring.rule_sets ORDER BY effective_from LIMIT 1)) AS version`,
        [at],
      );
      const name = rows[0]?.version;
      const found = name === undefined ? undefined : await byVersion(name);
      if (!found) throw new Error(`rule set ${name} is not in the registry`);
      return found;
    },
    byVersion,
    async adopt(input) {
      try {
        await pool.query(
          `WITH added AS (
             INSERT INTO scoring.rule_sets (version, effective_from, rule_set, origin, backtest_id, adopted_at)
             VALUES ($1, $2, $3, 'adopted', $4, $5)
           )
           SELECT pg_notify($6, '')`,
          [
            input.ruleSet.version,
            input.effectiveFrom,
            JSON.stringify(input.ruleSet),
            input.backtestId,
            input.now,
            RULE_SETS_CHANNEL,
          ],
        );
      } catch (error) {
        if ((error as { code?: string }).code !== '23505') throw error;
        await reload();
        const clash = versions.find(
          (v) =>
            v.ruleSet.version === input.ruleSet.version ||
            v.effectiveFrom.getTime() === input.effectiveFrom.getTime(),
        );
        throw ruleSetConflict(input.ruleSet.version, input.effectiveFrom, clash);
      }
      await reload();
      return versions.find((v) => v.ruleSet.version === input.ruleSet.version) as RuleSetVersion;
    },
    async close() {
      listening = false;
      await listener?.close();
    },
  };
}

function ruleSetConflict(version: string, effectiveFrom: Date, clash: RuleSetVersion | undefined): AppError {
  if (clash?.ruleSet.version === version) {
    return new AppError('CONFLICT', `rule set ${version} is already registered`, 409, {
      details: { version, effectiveFrom: clash.effectiveFrom.toISOString() },
    });
  }
  return new AppError(
    'CONFLICT',
    `rule set ${clash?.ruleSet.version ?? 'another'} already takes effect at ${effectiveFrom.toISOString()}`,
    409,
    { details: { version: clash?.ruleSet.version ?? null, effectiveFrom: effectiveFrom.toISOString() } },
  );
}

/** The answer of `GET /v1/rules` and of each entry of `GET /v1/rules/versions`. */
export function ruleSetView(entry: RuleSetVersion) {
  return {
    version: entry.ruleSet.version,
    effectiveFrom: entry.effectiveFrom.toISOString(),
    effectiveTo: entry.effectiveTo?.toISOString() ?? null,
    origin: entry.origin,
    adoptedAt: entry.adoptedAt.toISOString(),
    backtestId: entry.backtestId,
    score: entry.ruleSet.score,
    tiers: entry.ruleSet.tiers,
    evaluation: entry.ruleSet.evaluation,
  };
}

export const notInForce = (asOf: Date, first: RuleSetVersion) =>
  Errors.notFound(
    `no rule set was in force at ${asOf.toISOString()}: the programme started ${first.effectiveFrom.toISOString()}`,
  );
