import { type Category, type Source, TIERS, type Tier } from '@taobi/contracts';
import { addMonths, type Month, shanghaiDayStart } from './calendar';
import simulatedLinesData from './data/simulated-lines.json';
import { foldScores, type ScoreEvent } from './score-fold';
import type { ScoreRules } from './score-rules';

/**
 * A pure, seeded simulation of a year of skewed spending, to choose believable default numbers:
 * many small meals and rides, fewer larger e-commerce orders, rare flights and hotels, some
 * refunds. Each member has an activity level drawn from a log-normal (a few members do far more
 * than the median), which scales how often they order on every line and, mildly, how much.
 * The shape is an assumption, written down as data (`data/simulated-lines.json`) so the defaults
 * can be argued with.
 */
interface Line {
  source: Source;
  /** Share of members who use this line at all. */
  adoption: number;
  /** Orders per month of a median-activity user, by category, with the median amount in CNY. */
  categories: { category: Category; perMonth: number; medianYuan: number; sigma: number }[];
  /** Share of orders refunded in full and in part (30%). */
  refunds: { full: number; partial: number };
}

/** The lines, as data (`data/simulated-lines.json`). */
export const SIMULATED_LINES: readonly Line[] = simulatedLinesData;

/** The spread of members' activity levels (log-normal sigma): p90 is 2.8x the median, p99 6.4x. */
export const ACTIVITY_SIGMA = 0.8;

/** mulberry32: a tiny seeded PRNG, so a simulation is reproducible. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(random: () => number): number {
  const u = Math.max(random(), Number.EPSILON);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function poisson(random: () => number, mean: number): number {
  // Knuth's method: fine for the small means used here.
  const limit = Math.exp(-Math.min(mean, 60));
  let count = 0;
  let product = random();
  while (product > limit) {
    count += 1;
    product *= random();
  }
  return count;
}

/** One simulated member's year of consumption events (12 months ending with `lastMonth`). */
export function simulateMember(
  memberId: string,
  random: () => number,
  lastMonth: Month,
  activitySigma = ACTIVITY_SIGMA,
): ScoreEvent[] {
  const activity = Math.exp(activitySigma * normal(random));
  const spendFactor = activity ** 0.3;
  const events: ScoreEvent[] = [];
  let sequence = 0;
  for (const line of SIMULATED_LINES) {
    if (random() >= line.adoption) continue;
    for (let back = 0; back < 12; back += 1) {
      const month = addMonths(lastMonth, -back);
      for (const category of line.categories) {
        const count = poisson(random, category.perMonth * activity);
        for (let i = 0; i < count; i += 1) {
          sequence += 1;
          const orderId = `${memberId}-${sequence}`;
          const yuan = category.medianYuan * spendFactor * Math.exp(category.sigma * normal(random));
          const amount = Math.max(100, Math.round(yuan * 100));
          const occurredAt = new Date(
            shanghaiDayStart(month, 1 + Math.floor(random() * 28)).getTime() + 3600_000 * 12,
          ).toISOString();
          events.push({
            eventId: `${line.source}:completed:${orderId}`,
            kind: 'completed',
            source: line.source,
            memberId,
            orderId,
            amount,
            category: category.category,
            occurredAt,
          });
          const roll = random();
          const refund =
            roll < line.refunds.full
              ? amount
              : roll < line.refunds.full + line.refunds.partial
                ? Math.round(amount * 0.3)
                : 0;
          if (refund > 0) {
            events.push({
              eventId: `${line.source}:refunded:${orderId}-r`,
              kind: 'refunded',
              source: line.source,
              memberId,
              orderId,
              refundId: `${orderId}-r`,
              amount: refund,
              occurredAt,
            });
          }
        }
      }
    }
  }
  return events;
}

export interface SpreadReport {
  members: number;
  /** Share of members in each tier, 0..1. */
  shares: Record<Tier, number>;
  /** Score percentiles: p50, p75, p90, p95, p99, p99.9. */
  percentiles: Record<string, number>;
  /** Mean yearly spend (CNY) of the members in each tier, net of refunds. */
  meanSpendYuan: Record<Tier, number>;
}

export function tierOf(score: number, thresholds: Record<Tier, number>): Tier {
  let found: Tier = 'BRONZE';
  for (const tier of TIERS) if (score >= thresholds[tier]) found = tier;
  return found;
}

/** Simulates `members` members for the 12 months ending `lastMonth` and reports the tier spread. */
export function simulateSpread(
  rules: ScoreRules,
  thresholds: Record<Tier, number>,
  options: { members: number; seed: number; lastMonth?: Month; activitySigma?: number },
): SpreadReport {
  const random = prng(options.seed);
  const lastMonth = options.lastMonth ?? '2026-10';
  const scores: number[] = [];
  const counts = Object.fromEntries(TIERS.map((t) => [t, 0])) as Record<Tier, number>;
  const spend = Object.fromEntries(TIERS.map((t) => [t, 0])) as Record<Tier, number>;
  for (let i = 0; i < options.members; i += 1) {
    const memberId = `sim-${i}`;
    const events = simulateMember(memberId, random, lastMonth, options.activitySigma);
    const score =
      foldScores(rules, events, addMonths(lastMonth, -11)).get(memberId)?.score ?? rules.baseScore;
    const net = events.reduce((sum, e) => sum + (e.kind === 'completed' ? e.amount : -e.amount), 0) / 100;
    const tier = tierOf(score, thresholds);
    counts[tier] += 1;
    spend[tier] += net;
    scores.push(score);
  }
  scores.sort((a, b) => a - b);
  const at = (q: number) => scores[Math.min(scores.length - 1, Math.floor(q * scores.length))] ?? 0;
  return {
    members: options.members,
    shares: Object.fromEntries(TIERS.map((t) => [t, counts[t] / options.members])) as Record<Tier, number>,
    percentiles: {
      p50: at(0.5),
      p75: at(0.75),
      p90: at(0.9),
      p95: at(0.95),
      p99: at(0.99),
      'p99.9': at(0.999),
    },
    meanSpendYuan: Object.fromEntries(
      TIERS.map((t) => [t, counts[t] ? Math.round(spend[t] / counts[t]) : 0]),
    ) as Record<Tier, number>,
  };
}
