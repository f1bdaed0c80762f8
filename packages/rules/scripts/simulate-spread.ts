/**
 * Prints the tier spread the current rule set gives a simulated population (score-simulation.ts):
 * `pnpm --filter @taobi/rules simulate [members] [seed]`.
 */
import { TIERS } from '@taobi/contracts';
import { DEFAULT_RULE_SET, simulateSpread } from '../src/index';

const members = Number(process.argv[2] ?? 20_000);
const seed = Number(process.argv[3] ?? 42);
const report = simulateSpread(DEFAULT_RULE_SET.score, DEFAULT_RULE_SET.tiers.thresholds, { members, seed });
console.log(`rule set ${DEFAULT_RULE_SET.version}, ${members} simulated members, seed ${seed}`);
console.log('tier            share   mean net spend (CNY/yr)');
for (const tier of TIERS) {
  const share = `${(report.shares[tier] * 100).toFixed(2)}%`;
  console.log(
    `${tier.padEnd(15)} ${share.padStart(7)}   ${report.meanSpendYuan[tier].toLocaleString('en-US')}`,
  );
}
console.log('score percentiles', report.percentiles);
