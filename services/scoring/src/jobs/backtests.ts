import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { type Catalogue, parseCatalogue } from '@taobi/benefits';
import type { Logger, Pool } from '@taobi/platform';
import { lastEvaluationAt, parseRuleSet, type RuleSet } from '@taobi/rules';
import { backtestReport, countMember, emptyTally, memberComparison } from '../domain/backtest';
import {
  type BacktestRow,
  claimLapsedBacktest,
  countLedgerMembers,
  finishBacktest,
  insertBacktest,
  type Lease,
  latestEvaluationStartedBy,
  readLedgerPage,
  releaseBacktest,
  saveProgress,
  snapshotSettled,
} from '../store/backtests';

/** What a backtest compares: the rule set and catalogue in force, and the candidates. */
export interface BacktestInput {
  name: string;
  asOf: Date;
  /** The tier service's `CLAWBACK_DAYS`, the same for both sides. */
  clawbackDays: number;
  baseline: { rules: RuleSet; catalogue: Catalogue };
  candidate: { rules: RuleSet; catalogue: Catalogue };
}

export interface BacktestJobs {
  /** Records a backtest and starts it in this process; resolves once it is recorded. */
  create(input: BacktestInput): Promise<BacktestRow>;
  /** Resumes every backtest whose instance is gone, now and every lease period. */
  start(): void;
  /** Stops the backtests in hand after their current page and gives their leases up. */
  stop(): Promise<void>;
}

/** An attempt is a claim of the backtest; one whose third attempt fails (or is cut off) has failed. */
const MAX_ATTEMPTS = 3;

function sidesOf(row: BacktestRow) {
  const side = (rules: unknown, catalogue: unknown) => {
    const parsed = parseRuleSet(rules);
    return {
      rules: parsed,
      catalogue: parseCatalogue(catalogue),
      evaluationAt: lastEvaluationAt(row.horizon, parsed.evaluation.dayOfMonth),
    };
  };
  return {
    baseline: side(row.baseline_rules, row.baseline_catalogue),
    candidate: side(row.candidate_rules, row.candidate_catalogue),
  };
}

/**
 * Backtests as jobs of this service, off the request path: each one pages through the ledger in
 * member id order (`BACKTEST_PAGE_SIZE` orders a page, read-only; the next page is read while one
 * is folded), replays every member under both rule sets (`replayMember`), and saves its cursor and
 * tally after each page. The only row it
 * ever writes is its own in `scoring.backtests`: no score, tier, outbox row, Redis entry or record.
 *
 * An instance holds a backtest by a lease it renews with each page. A clean stop gives the lease
 * up; a crash lets it lapse after `leaseMs`. Every instance sweeps for lapsed leases at start and
 * every `leaseMs`, and resumes what it finds from the saved cursor; a backtest is failed after
 * its third attempt ends in an error or a crash, so none stays `running` for ever.
 */
export function createBacktestJobs(options: {
  pool: Pool;
  logger: Logger;
  pageSize: number;
  leaseMs: number;
  /** Tests: runs after each page's progress is saved. */
  afterPage?: (id: string, done: number) => Promise<void>;
}): BacktestJobs {
  const { pool, pageSize } = options;
  const lease: Lease = { owner: randomUUID(), leaseMs: options.leaseMs };
  const log = options.logger.child({ component: 'backtests' });
  const inHand = new Map<string, Promise<void>>();
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;

  async function run(row: BacktestRow): Promise<void> {
    const context = { backtestId: row.id, attempt: row.attempts };
    let sides: ReturnType<typeof sidesOf>;
    try {
      sides = sidesOf(row);
    } catch (error) {
      const message = `its stored input no longer validates: ${(error as Error).message}`;
      log.error({ ...context, err: error }, 'backtest failed');
      await finishBacktest(pool, row.id, lease.owner, { status: 'failed', error: message });
      return;
    }
    const view = { asOf: row.as_of, snapshotAt: row.snapshot_at };
    await snapshotSettled(pool, view.snapshotAt);
    const tally = row.tally;
    let cursor = row.cursor ?? '';
    // Counted once, beside the first pages (a scan of the orders).
    const counted = row.total === null ? countLedgerMembers(pool, view) : Promise.resolve(row.total);
    counted.catch(() => undefined);
    const report = () => backtestReport(tally, sides.baseline, sides.candidate);
    const compare = memberComparison(sides.baseline.rules, sides.candidate.rules, {
      clawbackDays: row.clawback_days,
    });
    log.info({ ...context, resumedAfter: row.cursor, done: row.done }, 'backtest running');
    // The next page is read while this one is folded: Postgres and the fold overlap. (A read left
    // behind by an error is awaited by no one: its rejection is caught here.)
    const read = (after: string) => {
      const page = readLedgerPage(pool, after, pageSize, view);
      page.catch(() => undefined);
      return page;
    };
    let next = read(cursor);
    for (;;) {
      if (stopping) {
        await next.catch(() => undefined);
        await releaseBacktest(pool, row.id, lease.owner, { stopped: true });
        return;
      }
      const page = await next;
      if (page.last !== undefined) next = read(page.last);
      for (const member of page.members) {
        const { before, after } = compare(member.memberId, member.events, row.horizon);
        countMember(tally, member.memberId, before, after, member.events.length);
      }
      cursor = page.last ?? cursor;
      const progress = { cursor, done: tally.members, total: await counted, tally, report: report() };
      if (!(await saveProgress(pool, row.id, lease, progress))) {
        await next.catch(() => undefined);
        log.warn(context, 'backtest taken over by another instance (this one stalled past its lease)');
        return;
      }
      if (page.last === undefined) break;
      await options.afterPage?.(row.id, tally.members);
      await yieldToEventLoop();
    }
    if (await finishBacktest(pool, row.id, lease.owner, { status: 'completed' })) {
      log.info(
        { ...context, members: tally.members, events: tally.events, moves: tally.moves },
        'backtest completed',
      );
    }
  }

  function launch(row: BacktestRow): void {
    if (inHand.has(row.id)) return;
    const attempt = run(row)
      .catch(async (error: unknown) => {
        log.error({ err: error, backtestId: row.id, attempt: row.attempts }, 'backtest attempt failed');
        await releaseBacktest(pool, row.id, lease.owner, { error: (error as Error).message }).catch(() => {});
      })
      .finally(() => inHand.delete(row.id));
    inHand.set(row.id, attempt);
  }

  async function sweep(): Promise<void> {
    while (!stopping) {
      const row = await claimLapsedBacktest(pool, lease);
      if (!row) return;
      if (row.attempts > MAX_ATTEMPTS) {
        const error = `gave up after ${MAX_ATTEMPTS} attempts; the last ended with: ${row.error ?? 'the service stopping or crashing'}`;
        log.error({ backtestId: row.id }, error);
        await finishBacktest(pool, row.id, lease.owner, { status: 'failed', error });
        continue;
      }
      launch(row);
    }
  }
  const sweepLogged = () =>
    sweep().catch((error: unknown) => log.warn({ err: error }, 'looking for backtests to resume failed'));

  return {
    async create(input) {
      const horizonFloor = await latestEvaluationStartedBy(pool, input.asOf);
      const horizon =
        horizonFloor && horizonFloor.getTime() > input.asOf.getTime() ? horizonFloor : input.asOf;
      const evaluationAt = (rules: RuleSet) => lastEvaluationAt(horizon, rules.evaluation.dayOfMonth);
      const tally = emptyTally();
      const row = await insertBacktest(
        pool,
        {
          id: randomUUID(),
          name: input.name,
          asOf: input.asOf,
          horizon,
          clawbackDays: input.clawbackDays,
          baselineRules: input.baseline.rules,
          candidateRules: input.candidate.rules,
          baselineCatalogue: input.baseline.catalogue,
          candidateCatalogue: input.candidate.catalogue,
          tally,
          report: backtestReport(
            tally,
            { ...input.baseline, evaluationAt: evaluationAt(input.baseline.rules) },
            { ...input.candidate, evaluationAt: evaluationAt(input.candidate.rules) },
          ),
        },
        lease,
      );
      launch(row);
      return row;
    },
    start() {
      void sweepLogged();
      timer = setInterval(() => void sweepLogged(), options.leaseMs);
      timer.unref();
    },
    async stop() {
      stopping = true;
      if (timer) clearInterval(timer);
      await Promise.allSettled(inHand.values());
    },
  };
}
