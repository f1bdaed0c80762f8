/**
 * Ceilings for `pnpm bench:scoring`: two parts of the fold's work that no fold can skip, each timed
 * alone in the same run, so the fold's ratio can be read against what its parts allow.
 *
 * - The door: every record's value parsed (JSON), validated (the contract's check compiled by ajv,
 *   as the consumer does) and checked (`rejectionReason`: source fields, the deterministic eventId,
 *   the clock), in this process, one after another, as the consumer does before folding.
 * - The ledger rows: after the fold (its service stopped), `scoring.orders` is emptied and the
 *   backlog's orders (95% of its events; the rate counts all events) go in again through the fold's
 *   own `insertOrders` (COPY into a staging table, one INSERT .. SELECT ON CONFLICT), in one
 *   transaction per partition's share, all at once, as the fold's partitions are; no refund,
 *   bucket, member, version or outbox row, nothing published. Run it last: it empties the ledger.
 */
import { type ConsumptionEvent, isConsumptionEvent, type OrderCompleted } from '@taobi/contracts';
import { createPool, withTransaction } from '@taobi/platform';
import { DEFAULT_RULE_SET } from '@taobi/rules';
import { rejectionReason } from '../../services/scoring/src/domain/consumption-check';
import { insertOrders } from '../../services/scoring/src/store/ledger';
import { logger, type Scratch } from './bench-kit';

const PARTITIONS = 6;

/** Events per second through the door (parse, validate, check), in this process. */
export function doorRate(events: readonly ConsumptionEvent[]): number {
  const raw = events.map((e) => Buffer.from(JSON.stringify(e)));
  const now = new Date();
  const started = performance.now();
  let refused = 0;
  for (const value of raw) {
    const parsed: unknown = JSON.parse(value.toString('utf8'));
    if (
      !isConsumptionEvent(parsed) ||
      rejectionReason(parsed, { rules: DEFAULT_RULE_SET, now, maxFutureSkewMs: 300_000 })
    ) {
      refused += 1;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  if (refused > 0) throw new Error(`the door refused ${refused} backlog events`);
  return events.length / seconds;
}

/** Events per second for the ledger rows alone (orders into an empty copy of the ledger table). */
export async function ledgerRowsRate(scratch: Scratch, events: readonly ConsumptionEvent[]): Promise<number> {
  const pool = createPool({
    connectionString: scratch.databaseUrl,
    logger,
    applicationName: 'bench-ceiling',
    max: PARTITIONS,
  });
  try {
    // The fold's rows are gone; the same orders go in again, by the fold's own statement.
    await pool.query('TRUNCATE scoring.orders');
    const orders = events.filter((e): e is OrderCompleted => e.kind === 'completed');
    const shares = Array.from({ length: PARTITIONS }, (_, p) =>
      orders.filter((_, i) => i % PARTITIONS === p),
    );
    const started = performance.now();
    await Promise.all(shares.map((share) => withTransaction(pool, (client) => insertOrders(client, share))));
    return events.length / ((performance.now() - started) / 1000);
  } finally {
    await pool.end();
  }
}
