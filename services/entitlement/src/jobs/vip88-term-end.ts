import type { Catalogue } from '@taobi/benefits';
import {
  enqueueOutbox,
  type OutboxRecord,
  type PoolClient,
  scheduleRecurring,
  withTransaction,
} from '@taobi/platform';
import { grantRecord } from '../domain/grants';
import { closeEndedTerms } from '../store/vip88';
import type { PeriodicIssuerDeps } from './periodic-issue';

/**
 * Closes ended 88VIP terms in the caller's transaction (all due, or one member's) and returns the
 * `revoked` records of the bundle grants that ended with them, for the outbox.
 */
export async function closeTerms(
  client: PoolClient,
  catalogue: Catalogue,
  now: Date,
  options: { memberId?: string; limit: number },
): Promise<{ terms: string[]; records: OutboxRecord[]; kinds: string[] }> {
  const { terms, revoked } = await closeEndedTerms(client, now, options);
  return {
    terms,
    records: revoked.map((row) => grantRecord(catalogue, row, 'revoked', row.member_tier ?? row.tier, now)),
    kinds: revoked.map((row) => row.kind),
  };
}

export interface TermEndDeps extends PeriodicIssuerDeps {
  /** How often the schedule looks for ended terms. */
  intervalMs: number;
}

/**
 * The 88VIP term-end job: every term whose end has passed is closed once, its bundle grants
 * revoked and published. One page of terms per transaction (revocations, records and the terms'
 * `term_ended_at` commit together), so it is resumable, and a closed term is never closed again, so
 * it is safe to run twice or on two instances at once (SKIP LOCKED).
 */
export function createVip88TermEnder(deps: TermEndDeps) {
  const log = deps.logger.child({ component: 'vip88-term-end' });

  async function run(options: { maxPages?: number } = {}): Promise<{ termsClosed: number; revoked: number }> {
    const total = { termsClosed: 0, revoked: 0 };
    for (let page = 0; options.maxPages === undefined || page < options.maxPages; page += 1) {
      const now = deps.now();
      const closed = await withTransaction(deps.pool, async (client) => {
        const result = await closeTerms(client, deps.catalogue, now, { limit: deps.pageSize });
        await enqueueOutbox(client, 'entitlement', result.records);
        return result;
      });
      total.termsClosed += closed.terms.length;
      total.revoked += closed.records.length;
      for (const kind of closed.kinds) deps.entitlements.labels('revoked', kind).inc();
      if (closed.records.length > 0) deps.onCommitted();
      if (closed.terms.length > 0)
        log.info({ terms: closed.terms.length, revoked: closed.records.length }, '88VIP terms closed');
      if (closed.terms.length < deps.pageSize) break;
    }
    return total;
  }

  /** Once at start (terms that ended while the service was down), then every `intervalMs`. */
  function schedule(): { stop: () => Promise<void> } {
    const catchUp = run().catch((error: unknown) =>
      log.error({ err: error }, '88VIP term-end catch-up failed'),
    );
    const recurring = scheduleRecurring({
      name: 'vip88-term-end',
      logger: deps.logger,
      now: deps.now,
      nextRunAt: (after) => new Date(after.getTime() + deps.intervalMs),
      run: () => run(),
      retryDelayMs: deps.intervalMs,
    });
    return {
      async stop() {
        recurring.stop();
        await catchUp;
      },
    };
  }

  return { run, schedule };
}

export type Vip88TermEnder = ReturnType<typeof createVip88TermEnder>;
