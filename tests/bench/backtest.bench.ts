/**
 * `pnpm bench:backtest [events] [members]`: how fast a backtest folds the ledger, next to how fast
 * the live fold built that same ledger, in one run on one machine.
 *
 * 1. A fresh topic set is filled with the scoring benchmark's backlog (`backlog`: `events` records
 *    over up to `members` members, ~5% refunds).
 * 2. Live fold: the real scoring service (in this process) drains it; events/s from its group join
 *    to its offsets committed at the end of every partition (as `pnpm bench:scoring`).
 * 3. Backtest: the same service, now idle, is asked `POST /v1/admin/backtests` with Platinum raised
 *    to 1200 (so every member is replayed under two rule sets); events/s from the POST to the
 *    backtest reading `completed`, over the ledger rows it folded.
 * Everything the run created (topics, database, Redis keys) is removed at the end. Not a test:
 * nothing asserts a speed; the aim is a backtest at least as fast as the live fold.
 */
import type { ConsumptionEvent } from '@taobi/contracts';
import { foldLive, ledgerSize, type Scratch, say, withBacklog } from './bench-kit';

const ADMIN = { authorization: 'Bearer dev-admin-key' };

async function bench(scratch: Scratch, _topic: string, events: ConsumptionEvent[]): Promise<void> {
  const live = await foldLive(scratch);
  const liveRate = events.length / live.seconds;
  say(
    `live fold (scoring, a transaction per batch): ${live.seconds.toFixed(2)} s, ${Math.round(liveRate)} events/s`,
  );
  const ledger = await ledgerSize(scratch);
  say(`ledger holds ${ledger.events} events for ${ledger.members} members`);

  try {
    const started = performance.now();
    const posted = await live.service.app.inject({
      method: 'POST',
      url: '/v1/admin/backtests',
      headers: ADMIN,
      payload: { name: 'bench: Platinum 1200', ruleSet: { tiers: { thresholds: { PLATINUM: 1200 } } } },
    });
    if (posted.statusCode !== 202) throw new Error(`POST answered ${posted.statusCode}: ${posted.body}`);
    const { id } = posted.json() as { id: string };
    let result: { status: string; error?: string; moves: unknown; baseline: { tiers: unknown } };
    for (;;) {
      result = (await live.service.app.inject({ url: `/v1/admin/backtests/${id}`, headers: ADMIN })).json();
      if (result.status !== 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = (performance.now() - started) / 1000;
    if (result.status !== 'completed') throw new Error(`the backtest ${result.status}: ${result.error}`);
    const backtestRate = ledger.events / seconds;
    say(
      `backtest (ledger read in pages, every member replayed under two rule sets): ${seconds.toFixed(2)} s, ${Math.round(backtestRate)} events/s`,
    );
    say(`baseline tiers ${JSON.stringify(result.baseline.tiers)}; moves ${JSON.stringify(result.moves)}`);
    const ratio = backtestRate / liveRate;
    say(`ratio backtest / live fold: ${ratio.toFixed(2)} (aim: at least 1)`);
    process.stdout.write(
      `${JSON.stringify({ events: ledger.events, liveFoldEventsPerSecond: Math.round(liveRate), backtestEventsPerSecond: Math.round(backtestRate), ratio: Number(ratio.toFixed(3)) })}\n`,
    );
  } finally {
    await live.service.stop();
  }
}

withBacklog(bench).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
