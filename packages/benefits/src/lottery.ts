import { createHmac, randomBytes } from 'node:crypto';
import type { Tier } from '@taobi/contracts';
import type { TierOdds } from './catalogue-schema';

/**
 * The welcome-gift lottery's draw, a pure function anyone can re-run from the audit record:
 *
 *   u   = first 48 bits of HMAC-SHA256(key = seed bytes, message = "taobi.welcome-gift.v1|<catalogueVersion>|<memberId>|<tier>") / 2^48
 *   won = u < odds[tier]
 *
 * HMAC-SHA256 is a PRF, so for a seed nobody chose (32 random bytes drawn at draw time and recorded)
 * u is uniform on [0, 1) and the win rate equals the configured odds. The message binds the draw to
 * its member, tier and rule version, so a recorded seed cannot be replayed to justify another draw.
 */
export const LOTTERY_ALGORITHM = 'hmac-sha256-48bit.v1';

export interface DrawInput {
  /** 32 random bytes, hex-encoded. */
  seed: string;
  memberId: string;
  tier: Tier;
  odds: TierOdds;
  catalogueVersion: string;
}

export interface DrawOutcome {
  algorithm: typeof LOTTERY_ALGORITHM;
  /** The uniform number in [0, 1) the seed yields. */
  value: number;
  /** The win probability at the member's tier. */
  probability: number;
  won: boolean;
}

const SEED = /^[0-9a-f]{64}$/;

/** A fresh seed: 32 bytes from the operating system's CSPRNG. */
export function newSeed(): string {
  return randomBytes(32).toString('hex');
}

export function drawValue(input: Omit<DrawInput, 'odds'>): number {
  if (!SEED.test(input.seed)) throw new RangeError('seed must be 64 lower-case hex characters');
  const mac = createHmac('sha256', Buffer.from(input.seed, 'hex'))
    .update(`taobi.welcome-gift.v1|${input.catalogueVersion}|${input.memberId}|${input.tier}`)
    .digest();
  return mac.readUIntBE(0, 6) / 2 ** 48;
}

export function drawWelcomeGift(input: DrawInput): DrawOutcome {
  const value = drawValue(input);
  const probability = input.odds[input.tier];
  return { algorithm: LOTTERY_ALGORITHM, value, probability, won: value < probability };
}
