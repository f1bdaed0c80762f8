import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Tier } from '@taobi/contracts';
import type { TierOdds } from './catalogue-schema';

/**
 * The welcome-gift lottery, verifiable by anyone with commit and reveal. Each campaign period (an
 * ISO week by default) has one secret seed, 32 bytes from the CSPRNG, whose commitment
 * `SHA-256(seed)` is published before the period starts; after the period the seed is revealed.
 * Every draw of the period is then a pure function of public inputs and that seed:
 *
 *   commitment = hex(SHA-256(seed bytes))
 *   value      = first 48 bits of HMAC-SHA256(key = seed bytes,
 *                  message = "taobi.lottery.v2|<campaign>|<memberId>|<tier>") / 2^48
 *   won        = value < odds[tier]
 *
 * The service cannot pick a seed after seeing who draws (it is committed first), nor redraw a member
 * (one draw per member and tier), and HMAC-SHA256 is a PRF, so for a seed nobody chose the values are
 * uniform on [0, 1) and the win rate is the configured odds.
 */
export const LOTTERY_ALGORITHM = 'hmac-sha256-48bit.v2';

export interface DrawInput {
  /** The campaign's seed: 32 bytes, hex-encoded. */
  seed: string;
  /** The campaign period's key, e.g. `2026-W47`. */
  campaign: string;
  memberId: string;
  tier: Tier;
}

export interface DrawOutcome {
  algorithm: typeof LOTTERY_ALGORITHM;
  /** The uniform number in [0, 1) the seed yields for this member and tier. */
  value: number;
  /** The win probability at the tier. */
  probability: number;
  won: boolean;
}

const SEED = /^[0-9a-f]{64}$/;

function seedBytes(seed: string): Buffer {
  if (!SEED.test(seed)) throw new RangeError('seed must be 64 lower-case hex characters');
  return Buffer.from(seed, 'hex');
}

/** A fresh seed: 32 bytes from the operating system's CSPRNG. */
export function newSeed(): string {
  return randomBytes(32).toString('hex');
}

/** What is published before the campaign: the SHA-256 of the seed's bytes, hex. */
export function commitmentOf(seed: string): string {
  return createHash('sha256').update(seedBytes(seed)).digest('hex');
}

/** The HMAC message of a draw: it binds the seed to one campaign, member and tier. */
export function lotteryMessage(input: Omit<DrawInput, 'seed'>): string {
  return `taobi.lottery.v2|${input.campaign}|${input.memberId}|${input.tier}`;
}

export function drawValue(input: DrawInput): number {
  const mac = createHmac('sha256', seedBytes(input.seed)).update(lotteryMessage(input)).digest();
  return mac.readUIntBE(0, 6) / 2 ** 48;
}

export function drawLottery(input: DrawInput & { odds: TierOdds }): DrawOutcome {
  const value = drawValue(input);
  const probability = input.odds[input.tier];
  return { algorithm: LOTTERY_ALGORITHM, value, probability, won: value < probability };
}
