/**
 * `pnpm bench:backtest [events] [members]`: how fast a backtest folds the ledger, next to how fast
 * the live fold built that same ledger, in one run on one machine.
 *
 * 1. A fresh topic set is filled with the scoring benchmark's backlog (`backlog`: `events` records
 *    over up to `members` members, ~5% refunds).
 * 2. Live fold: the real scoring service (in this process) drains it; events/s from its group join
 *    to its offsets committed at the end of every partition (as `pnpm bench:scoring`).
 * 3. Backtests: the same service, now idle, is asked `POST /v1/admin/backtests` twice: Platinum
 *    raised to 1200 (a tiers-only change: one score fold read by two tier policies), then physical
 *    goods worth more points (a score change: every member folded under both rule sets); events/s
 *    from the POST to the backtest reading `completed`, over the ledger rows it folded.
 * Everything the run created (topics, database, Redis keys) is removed at the end. Not a test:
 * nothing asserts a speed; the aim is a backtest at least as fast as the live fold.
 */
import type { ConsumptionEvent } from '@taobi/contracts';
import type { Service } from '@taobi/platform';
import { foldLive, ledgerSize, type Scratch, say, withBacklog } from './bench-kit';

const ADMIN = { authorization: 'Bearer dev-admin-key' };

/** The two kinds of change: tiers only (one score fold, two tier policies), and score rules (two folds). */
const CANDIDATES = [
  { label: 'Platinum at 1200 (tiers only)', ruleSet: { tiers: { thresholds: { PLATINUM: 1200 } } } },
  {
    label: 'physical goods at 30 CNY a point (score rules)',
    ruleSet: { score: { sources: { ecommerce: { categories: { physical: { fenPerPoint: 3000 } } } } } },
  },
];

/** Runs one backtest on the service and times it from the POST to `completed`. */
async function timeBacktest(service: Service, name: string, ruleSet: object) {
  const started = performance.now();
  const posted = await service.app.inject({
    method: 'POST',
    url: '/v1/admin/backtests',
    headers: ADMIN,
    payload: { name, ruleSet },
  });
  if (posted.statusCode !== 202) throw new Error(`POST answered ${posted.statusCode}: ${posted.body}`);
  const { id } = posted.json() as { id: string };
  for (;;) {
    const result = (await service.app.inject({ url: `/v1/admin/backtests/${id}`, headers: ADMIN })).json();
    if (result.status === 'failed') throw new Error(`the backtest failed: ${result.error}`);
    if (result.status === 'completed') {
      return { seconds: (performance.now() - started) / 1000, moves: result.moves as unknown };
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function bench(scratch: Scratch, _topic: string, events: ConsumptionEvent[]): Promise<void> {
  const live = await foldLive(scratch);
  const liveRate = events.length / live.seconds;
  say(
    `live fold (scoring, a transaction per batch): ${live.seconds.toFixed(2)} s, ${Math.round(liveRate)} events/s`,
  );
  const ledger = await ledgerSize(scratch);
  say(`ledger holds ${ledger.events} events for ${ledger.members} members`);
  const summary: Record<string, number> = {
    events: ledger.events,
    liveFoldEventsPerSecond: Math.round(liveRate),
  };
  try {
    for (const [i, candidate] of CANDIDATES.entries()) {
      const { seconds, moves } = await timeBacktest(
        live.service,
        `bench: ${candidate.label}`,
        candidate.ruleSet,
      );
      const rate = ledger.events / seconds;
      say(
        `backtest, ${candidate.label}: ${seconds.toFixed(2)} s, ${Math.round(rate)} events/s, ${(rate / liveRate).toFixed(2)} x the live fold (aim: at least 1); moves ${JSON.stringify(moves)}`,
      );
      summary[`backtest${i + 1}EventsPerSecond`] = Math.round(rate);
      summary[`ratio${i + 1}`] = Number((rate / liveRate).toFixed(3));
    }
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    await live.service.stop();
  }
}

withBacklog(bench).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
