import type { Source } from '@taobi/contracts';
import defaultProfileData from './data/default-profile.json';
import { Random } from './random';

/**
 * How synthetic members spend, as data. Order counts are Poisson per month, order values log-normal
 * (a long right tail), and each member carries an activity level drawn log-normally, so a few members
 * spend many times the median: many small food orders and rides, fewer and larger e-commerce orders,
 * rare flights and hotels, refunds at a per-line rate.
 */
export interface CategoryProfile {
  category: string;
  ordersPerMonth: number;
  medianYuan: number;
  sigma: number;
}

export interface LineProfile {
  source: Source;
  /** Share of members who use this business line at all. */
  adoption: number;
  channels: readonly (readonly [string, number])[];
  categories: readonly CategoryProfile[];
  refundRate: number;
}

export interface SpendingProfile {
  /** The median member's activity level (1 = the order rates below). */
  activityMedian: number;
  /** Log-space spread of member activity levels. */
  activitySigma: number;
  lines: readonly LineProfile[];
}

/**
 * The default profile, as data (`data/default-profile.json`, channels there as weights by name).
 * Most members are light shoppers (median activity a quarter of the rates below) and a long tail
 * spends heavily: with the 2026.1 score rules this puts about 72% of 3,000 simulated members in
 * Bronze, 16% Silver, 5% Gold, 5% Platinum, 1.2% Diamond and 0.8% Black Diamond, about 6.6 orders
 * per member per month on average.
 */
export const DEFAULT_PROFILE: SpendingProfile = {
  ...defaultProfileData,
  lines: defaultProfileData.lines.map((line) => ({ ...line, channels: Object.entries(line.channels) })),
};

/** One ingest request body, exactly as a platform service would post it (docs/design.md, "APIs"). */
export type IngestBody =
  | {
      type: 'order.completed';
      orderId: string;
      memberId: string;
      amount: number;
      currency: 'CNY';
      channel: string;
      category: string;
      merchantId: string;
      occurredAt: string;
    }
  | {
      type: 'order.refunded';
      orderId: string;
      refundId: string;
      memberId: string;
      amount: number;
      currency: 'CNY';
      occurredAt: string;
    };

export interface SimulatedEvent {
  source: Source;
  body: IngestBody;
  at: number;
}

export interface SimulationOptions {
  members: number;
  /** Simulated period: `from` (inclusive) to `to` (exclusive), epoch ms. */
  from: number;
  to: number;
  seed: number;
  /** Prefix of member and order ids, so runs never collide. */
  runId: string;
  profile?: SpendingProfile;
}

const DAY_MS = 86_400_000;
const MONTH_MS = 30.4375 * DAY_MS;

/** Every event of every simulated member, sorted by time. Deterministic for a given seed and runId. */
export function simulate(options: SimulationOptions): SimulatedEvent[] {
  const profile = options.profile ?? DEFAULT_PROFILE;
  const random = new Random(options.seed);
  const months = (options.to - options.from) / MONTH_MS;
  const events: SimulatedEvent[] = [];
  for (let index = 0; index < options.members; index += 1) {
    const memberId = `${options.runId}-m${index}`;
    const level = random.logNormal(profile.activityMedian, profile.activitySigma);
    let sequence = 0;
    for (const line of profile.lines) {
      if (!random.chance(Math.min(1, line.adoption * Math.sqrt(level)))) continue;
      for (const category of line.categories) {
        const count = random.poisson(category.ordersPerMonth * level * months);
        for (let n = 0; n < count; n += 1) {
          sequence += 1;
          const at = options.from + random.next() * (options.to - options.from);
          const yuan = random.logNormal(category.medianYuan * Math.sqrt(level), category.sigma);
          const amount = Math.max(100, Math.min(Math.round(yuan * 100), 500_000_000));
          const orderId = `${options.runId}-${line.source}-${index}-${sequence}`;
          events.push({
            source: line.source,
            at,
            body: {
              type: 'order.completed',
              orderId,
              memberId,
              amount,
              currency: 'CNY',
              channel: random.pick(line.channels),
              category: category.category,
              merchantId: `shop-${random.int(1, 500)}`,
              occurredAt: new Date(at).toISOString(),
            },
          });
          if (random.chance(line.refundRate)) {
            const refundAt = Math.min(at + random.int(1, 10) * DAY_MS * random.next(), options.to - 1000);
            const refundAmount = random.chance(0.6)
              ? amount
              : Math.max(1, Math.round(amount * (0.2 + 0.6 * random.next())));
            events.push({
              source: line.source,
              at: refundAt,
              body: {
                type: 'order.refunded',
                orderId,
                refundId: `${orderId}-r`,
                memberId,
                amount: refundAmount,
                currency: 'CNY',
                occurredAt: new Date(refundAt).toISOString(),
              },
            });
          }
        }
      }
    }
  }
  return events.sort((a, b) => a.at - b.at);
}
