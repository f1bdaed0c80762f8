import {
  CADENCES,
  type Cadence,
  type Catalogue,
  nextPeriodStart,
  periodOf,
  planPeriodicIssue,
} from '@taobi/benefits';
import {
  type Counter,
  enqueueOutbox,
  type Logger,
  type Pool,
  type Schedule,
  scheduleRecurring,
  withTransaction,
} from '@taobi/platform';
import { grantRecord } from '../domain/grants';
import { EntitlementErrors } from '../errors';
import { expireDueGrants, type GrantRow } from '../store/grants';
import { advanceRun, issuePage, lockRun, nextMemberPage, restartRun } from '../store/periodic-runs';

export interface RunSummary {
  period: string;
  cadence: Cadence;
  /** Where this call started: null from the beginning, else the member id it resumed after. */
  resumedAfter: string | null;
  membersScanned: number;
  granted: number;
  pages: number;
  finished: boolean;
}

export interface PeriodicIssuerDeps {
  pool: Pool;
  catalogue: Catalogue;
  now: () => Date;
  logger: Logger;
  pageSize: number;
  entitlements: Counter<'action' | 'kind'>;
  onCommitted: () => void;
  /** `taobi_entitlement_periodic_members_scanned_total{cadence}`: the issue's progress, page by page. */
  membersScanned?: Counter<'cadence'>;
}

/**
 * Issues periodic benefits (daily, weekly and monthly coupons) to every member whose current tier
 * qualifies, and the 88VIP bundle's to every member whose term runs. One page of members per transaction: the page's grants (one INSERT ... SELECT for the
 * page, the unique key dropping what exists), their outgoing records and the run's cursor commit
 * together, so a crash or a stop resumes after the last committed page and nothing is issued twice.
 */
export function createPeriodicIssuer(deps: PeriodicIssuerDeps) {
  const log = deps.logger.child({ component: 'periodic-issue' });

  /**
   * Runs (or resumes) the issue of one period. A finished run is skipped, or scanned again from the
   * start with `rescanFinished` (harmless: it only grants what is missing, e.g. to members whose
   * tier rose since without a tier change reaching this period).
   */
  async function issue(
    periodKey: string,
    options: { maxPages?: number | undefined; rescanFinished: boolean },
  ): Promise<RunSummary> {
    const plan = planPeriodicIssue(deps.catalogue, periodKey);
    if (!plan) throw new RangeError(`not a period: ${periodKey}`);
    if (plan.period.end.getTime() <= deps.now().getTime()) throw EntitlementErrors.periodEnded(periodKey);
    const summary: RunSummary = {
      period: periodKey,
      cadence: plan.period.cadence,
      resumedAfter: null,
      membersScanned: 0,
      granted: 0,
      pages: 0,
      finished: false,
    };
    for (let first = true; ; first = false) {
      const page = await withTransaction(deps.pool, async (client) => {
        const run = await lockRun(client, periodKey, plan.period.cadence);
        let cursor = run.cursor;
        if (run.finished_at) {
          if (!first || !options.rescanFinished)
            return { done: true, scanned: 0, granted: [] as GrantRow[], cursor };
          await restartRun(client, periodKey);
          cursor = '';
        }
        if (first) summary.resumedAfter = cursor === '' ? null : cursor;
        const members = await nextMemberPage(client, cursor, deps.pageSize);
        const now = deps.now();
        const granted = await issuePage(
          client,
          plan,
          members.map((m) => m.member_id),
          { catalogueVersion: deps.catalogue.version, now, runId: `periodic:${periodKey}` },
        );
        await enqueueOutbox(
          client,
          'entitlement',
          granted.map((row) => grantRecord(deps.catalogue, row, 'granted', row.tier, now)),
        );
        const done = members.length < deps.pageSize;
        await advanceRun(client, periodKey, {
          cursor: members.at(-1)?.member_id ?? cursor,
          scanned: members.length,
          granted: granted.length,
          finished: done,
        });
        return { done, scanned: members.length, granted, cursor: members.at(-1)?.member_id ?? cursor };
      });
      summary.membersScanned += page.scanned;
      summary.granted += page.granted.length;
      deps.membersScanned?.labels(plan.period.cadence).inc(page.scanned);
      if (page.scanned > 0) {
        log.info(
          {
            period: periodKey,
            cursor: page.cursor,
            pageMembers: page.scanned,
            pageGranted: page.granted.length,
            membersScanned: summary.membersScanned,
            granted: summary.granted,
          },
          'periodic issue page committed',
        );
      }
      for (const row of page.granted) deps.entitlements.labels('granted', row.kind).inc();
      if (page.granted.length > 0) deps.onCommitted();
      if (page.scanned > 0 || !page.done) summary.pages += 1;
      if (page.done) {
        summary.finished = true;
        break;
      }
      if (options.maxPages !== undefined && summary.pages >= options.maxPages) break;
    }
    log.info(summary, summary.finished ? 'periodic issue finished' : 'periodic issue paused');
    return summary;
  }

  /** Marks live grants whose validity ended as expired and publishes `expired`, in batches. */
  async function expire(batchSize = 500): Promise<number> {
    let total = 0;
    for (;;) {
      const now = deps.now();
      const rows = await withTransaction(deps.pool, async (client) => {
        const expired = await expireDueGrants(client, now, batchSize);
        await enqueueOutbox(
          client,
          'entitlement',
          expired.map((row) => grantRecord(deps.catalogue, row, 'expired', row.member_tier ?? row.tier, now)),
        );
        return expired;
      });
      total += rows.length;
      for (const row of rows) deps.entitlements.labels('expired', row.kind).inc();
      if (rows.length > 0) deps.onCommitted();
      if (rows.length < batchSize) break;
    }
    if (total > 0) log.info({ expired: total }, 'expired grants swept');
    return total;
  }

  /** The periods holding `asOf`, every cadence (what `{ asOf }` on the admin call means). */
  function periodsAt(asOf: Date): string[] {
    return CADENCES.map((cadence) => periodOf(cadence, asOf).key);
  }

  /**
   * On schedule: daily at 00:00, weekly on Monday 00:00 and monthly on the 1st 00:00 Asia/Shanghai, issue the period
   * that starts, then sweep expired grants. At start, the current periods are caught up (a service
   * that was down at 00:00 still issues them; a finished run is not scanned again).
   */
  function schedule(): { stop: () => Promise<void> } {
    const schedules: Schedule[] = CADENCES.map((cadence) =>
      scheduleRecurring({
        name: `periodic-issue-${cadence}`,
        logger: deps.logger,
        now: deps.now,
        nextRunAt: (after) => nextPeriodStart(cadence, after),
        run: async (dueAt) => {
          await issue(periodOf(cadence, dueAt).key, { rescanFinished: false });
          await expire();
        },
      }),
    );
    const catchUp = (async () => {
      for (const period of periodsAt(deps.now())) await issue(period, { rescanFinished: false });
      await expire();
    })().catch((error: unknown) => log.error({ err: error }, 'catch-up of the current periods failed'));
    return {
      async stop() {
        for (const s of schedules) s.stop();
        await catchUp;
      },
    };
  }

  return { issue, expire, periodsAt, schedule };
}

export type PeriodicIssuer = ReturnType<typeof createPeriodicIssuer>;
