import { readFileSync } from 'node:fs';
import { type BacktestReport, type BacktestSummary, TIERS } from '@taobi/contracts';
import { callApi, type Endpoints } from '../endpoints';
import { barChart, columns, progressBar, signed, yuan } from '../report';
import { waitForProgress } from '../stall';

/** The answer of `GET /v1/admin/backtests/:id` once it has a report (docs/design.md, "Backtests"). */
export type BacktestResult = BacktestSummary & BacktestReport;

function readJson(option: string, path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${option} ${path}: ${(error as Error).message}`);
  }
}

const count = (n: number) => n.toLocaleString('en-US');

/** The comparison as text: tiers before and after (numbers and bar charts), moves, 88VIP, liability, samples. */
export function renderBacktest(result: BacktestResult): string {
  const { baseline: before, candidate: after } = result;
  const total = result.progress.done;
  const lines = [
    `Backtest "${result.name}" (${result.id}), as of ${result.asOf}: ${count(total)} members`,
    `   rule set ${before.ruleVersion} -> ${after.ruleVersion}, catalogue ${before.catalogueVersion} -> ${after.catalogueVersion}`,
    `   each member replayed to the evaluation of ${before.evaluationAt}${after.evaluationAt === before.evaluationAt ? '' : ` (candidate's: ${after.evaluationAt})`}`,
    '',
    '1. Members per tier',
    columns(
      ['tier', 'before', 'after', 'change'],
      TIERS.map((tier) => [
        tier,
        count(before.tiers[tier]),
        count(after.tiers[tier]),
        signed(after.tiers[tier] - before.tiers[tier]),
      ]),
    ),
    '',
    `   before (${before.ruleVersion})`,
    barChart(
      TIERS.map((tier) => [tier, before.tiers[tier]] as const),
      total,
    ),
    `   after (${after.ruleVersion})`,
    barChart(
      TIERS.map((tier) => [tier, after.tiers[tier]] as const),
      total,
    ),
    '',
    `2. Moves: ${count(result.moves.down)} down, ${count(result.moves.up)} up`,
  ];
  const pairs = Object.entries(result.moves.byPair).sort(([, a], [, b]) => b - a);
  if (pairs.length > 0)
    lines.push(
      columns(
        ['from->to', 'members'],
        pairs.map(([pair, n]) => [pair, count(n)]),
      ),
    );
  lines.push(
    '',
    `3. 88VIP at the nominal price: ${count(before.vip88Eligible)} -> ${count(after.vip88Eligible)} members (${signed(after.vip88Eligible - before.vip88Eligible)})`,
    '',
    '4. Liability of the granted benefits (CNY: holders x unit cost; uncosted: holders)',
    columns(
      ['benefit', 'unit cost', 'before', 'after', 'change'],
      Object.entries(result.liability).map(([id, line]) => {
        const format = line.unit === 'fen' ? yuan : count;
        return [
          id,
          line.unitCost === undefined ? '-' : yuan(line.unitCost),
          format(line.before),
          format(line.after),
          signed(line.after - line.before, format),
        ];
      }),
    ),
  );
  if (result.samples.length > 0) {
    lines.push(
      '',
      '5. Members who move (first ones, by member id)',
      columns(
        ['member', 'before', 'after'],
        result.samples.map((s) => [
          s.memberId,
          `${s.before.tier} ${count(s.before.score)}`,
          `${s.after.tier} ${count(s.after.score)}`,
        ]),
      ),
    );
  }
  return lines.join('\n');
}

/**
 * `taobi backtest --rules candidate.json [--catalogue c.json] [--as-of T] [--name N]`: starts a
 * backtest on scoring, shows its progress, and prints the comparison. Exit 1 if it fails.
 */
export async function backtest(
  endpoints: Endpoints,
  options: { rules: string; catalogue?: string; asOf?: string; name?: string; stallMs: number },
): Promise<number> {
  const base = `${endpoints.url('scoring')}/v1/admin/backtests`;
  const key = endpoints.adminKey;
  const body = {
    name: options.name ?? options.rules,
    ruleSet: readJson('--rules', options.rules),
    ...(options.catalogue ? { catalogue: readJson('--catalogue', options.catalogue) } : {}),
    ...(options.asOf ? { asOf: options.asOf } : {}),
  };
  const { id } = await callApi<{ id: string }>(base, { method: 'POST', key, body });
  const tty = process.stdout.isTTY === true;
  let shown = '';
  const show = (state: BacktestResult) => {
    // Until the members are counted the bar has nothing to measure against.
    if (state.status === 'running' && state.progress.total === 0) return;
    const line = progressBar(state.progress.done, state.progress.total, 'members');
    if (line === shown) return;
    shown = line;
    process.stdout.write(tty ? `\r   ${line}` : `   ${line}\n`);
  };
  const result = await waitForProgress<BacktestResult>({
    what: `backtest ${id} on scoring`,
    stallMs: options.stallMs,
    poll: () => callApi<BacktestResult>(`${base}/${id}`, { key }),
    done: (state) => state.status !== 'running',
    progress: (state) => state.progress.done,
    stuck: (state) =>
      `it is at ${state.progress.done} of ${state.progress.total} members: is scoring running? (a backtest resumes when it restarts)`,
    onPoll: show,
    intervalMs: 250,
  });
  show(result);
  if (tty) process.stdout.write('\n');
  if (result.status === 'failed') {
    console.error(`taobi: backtest ${id} failed: ${result.error ?? 'no reason given'}`);
    return 1;
  }
  console.log(`\n${renderBacktest(result)}`);
  return 0;
}
