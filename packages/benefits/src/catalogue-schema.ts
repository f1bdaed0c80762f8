import { TIERS, type Tier, tierRank, tierSchema } from '@taobi/contracts';
import { z } from 'zod';

/**
 * The shape of a benefit catalogue. The catalogue itself is data (`data/catalogue-*.json`): it is
 * parsed with this schema when a service starts, so a typo or an impossible rule stops the boot
 * instead of granting the wrong thing. Every object is strict: an unknown field is an error.
 */

/** Benefit ids travel in entitlement-changed records: short, kebab-case, stable forever. */
export const benefitIdSchema = z
  .string()
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be kebab-case: a-z, 0-9 and single dashes')
  .max(48);

/** How often a periodic benefit recurs: calendar days, ISO weeks, calendar months (Asia/Shanghai). */
export const CADENCES = ['daily', 'weekly', 'monthly'] as const;

const text = z.string().min(1).max(200);
const channel = z.string().regex(/^[a-z0-9-]{2,32}$/, 'must be a lower-case channel name');
const fen = z.number().int().positive().max(100_000_000);
const probability = z.number().min(0).max(1);

/** Win probability of the welcome-gift lottery per tier: never lower for a higher tier. */
export const tierOddsSchema = z
  .strictObject(
    Object.fromEntries(TIERS.map((tier) => [tier, probability])) as Record<Tier, typeof probability>,
  )
  .superRefine((odds, ctx) => {
    for (let i = 1; i < TIERS.length; i += 1) {
      const lower = TIERS[i - 1] as Tier;
      const higher = TIERS[i] as Tier;
      if (odds[higher] < odds[lower]) {
        ctx.addIssue({ code: 'custom', path: [higher], message: `must not be lower than ${lower}'s odds` });
      }
    }
  });
export type TierOdds = z.infer<typeof tierOddsSchema>;

const service = z.strictObject({ type: z.literal('service'), channel, detail: text });
const discount = z.strictObject({
  type: z.literal('discount'),
  channel,
  percentOff: z.number().int().min(1).max(90),
  detail: text,
});
const partnerStatus = z.strictObject({
  type: z.literal('partner-status'),
  partner: text,
  level: text,
  via: channel,
});
const partnerMembership = z.strictObject({
  type: z.literal('partner-membership'),
  partner: text,
  plan: text,
});
const coupon = z
  .strictObject({
    type: z.literal('coupon'),
    channel,
    amountOffFen: fen,
    minSpendFen: z.number().int().min(0),
  })
  .refine((c) => c.minSpendFen === 0 || c.minSpendFen > c.amountOffFen, {
    path: ['minSpendFen'],
    message: 'must be 0 (no threshold) or more than amountOffFen',
  });
const pass = z.strictObject({ type: z.literal('pass'), channel, detail: text });
const voucher = z.strictObject({
  type: z.literal('voucher'),
  channel,
  detail: text,
  validDays: z.number().int().min(1).max(366),
});
const lottery = z.strictObject({
  type: z.literal('lottery'),
  prize: z.strictObject({ name: text, channel, valueFen: fen }),
  voucherValidDays: z.number().int().min(1).max(366),
  odds: tierOddsSchema,
  /** The campaign period: one committed seed per period, revealed when it ends. */
  campaignCadence: z.enum(CADENCES),
});

/**
 * Who holds a benefit: every member from a tier up (`{ minTier }`), or the holders of a running
 * 88VIP term (`{ vip88: true }`, the 88VIP bundle: granted for the term, revoked at its end).
 */
export const audienceSchema = z.union([
  z.strictObject({ minTier: tierSchema }),
  z.strictObject({ vip88: z.literal(true) }),
]);
export type Audience = z.infer<typeof audienceSchema>;

const base = {
  id: benefitIdSchema,
  name: text,
  description: z.string().max(500),
  audience: audienceSchema,
  /**
   * What one grant costs the programme, in fen (optional). A backtest's liability is the holders
   * times it; without it a coupon counts at its face value (`amountOffFen`), anything else uncosted.
   */
  unitCostFen: z.number().int().nonnegative().max(100_000_000).optional(),
};

/**
 * - `status`: held while the member is in the tier (or above); revoked when they leave it, unless
 *   already used (e.g. a partner status already claimed at the partner).
 * - `one-time`: granted once per member, ever (a voucher, or the welcome-gift lottery's single draw).
 * - `periodic`: one grant per member per period (day, ISO week or calendar month, Asia/Shanghai).
 * - `offer`: a targeted offer; nothing is granted, a member sees it while their tier qualifies.
 *
 * With the 88VIP audience, "while in tier" reads "while the term runs": status benefits and
 * vouchers are granted once per term, periodic ones once per period of the term.
 */
export const benefitSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    ...base,
    kind: z.literal('status'),
    fulfilment: z.discriminatedUnion('type', [service, discount, partnerStatus, partnerMembership]),
  }),
  z.strictObject({
    ...base,
    kind: z.literal('one-time'),
    fulfilment: z.discriminatedUnion('type', [voucher, lottery]),
  }),
  z.strictObject({
    ...base,
    kind: z.literal('periodic'),
    cadence: z.enum(CADENCES),
    fulfilment: z.discriminatedUnion('type', [coupon, pass]),
  }),
  z.strictObject({ ...base, kind: z.literal('offer'), fulfilment: discount }),
]);
export type Benefit = z.infer<typeof benefitSchema>;
export type BenefitKind = Benefit['kind'];
/** The kinds that become grant rows (offers are evaluated when read, never granted). */
export type GrantKind = Exclude<BenefitKind, 'offer'>;
export type Cadence = Extract<Benefit, { kind: 'periodic' }>['cadence'];

export const vip88RulesSchema = z
  .strictObject({
    /** The id 88VIP records carry on entitlement-changed (benefitKind `membership`). */
    benefitId: benefitIdSchema,
    /** The lowest tier that activates at the nominal price (Platinum: a Taobi score of 1000). */
    minTier: tierSchema,
    nominalPriceFen: fen,
    standardPriceFen: fen,
    currency: z.literal('CNY'),
    termMonths: z.number().int().min(1).max(36),
  })
  .refine((v) => v.nominalPriceFen < v.standardPriceFen, {
    path: ['nominalPriceFen'],
    message: 'must be below standardPriceFen',
  });
export type Vip88Rules = z.infer<typeof vip88RulesSchema>;

export const catalogueSchema = z
  .strictObject({
    /** Recorded on every grant and lottery draw, so each can be explained later. */
    version: z.string().regex(/^\d{4}\.\d+$/, 'must look like 2026.1'),
    benefits: z.array(benefitSchema).min(1),
    vip88: vip88RulesSchema,
  })
  .superRefine((catalogue, ctx) => {
    const seen = new Set<string>();
    catalogue.benefits.forEach((benefit, index) => {
      if (seen.has(benefit.id) || benefit.id === catalogue.vip88.benefitId) {
        ctx.addIssue({
          code: 'custom',
          path: ['benefits', index, 'id'],
          message: `duplicate id ${benefit.id}`,
        });
      }
      seen.add(benefit.id);
    });
    const lotteries = catalogue.benefits.filter((b) => b.fulfilment.type === 'lottery');
    if (lotteries.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['benefits'],
        message: `must hold exactly one lottery benefit (the welcome gift), found ${lotteries.length}`,
      });
    }
    catalogue.benefits.forEach((benefit, index) => {
      if (benefit.fulfilment.type === 'lottery' && !('minTier' in benefit.audience)) {
        ctx.addIssue({
          code: 'custom',
          path: ['benefits', index, 'audience'],
          message: 'the welcome-gift lottery is for every tier: give it { minTier }',
        });
      }
    });
  });
export type Catalogue = z.infer<typeof catalogueSchema>;

/** Thrown when a catalogue does not parse; lists every problem with its path. */
export class CatalogueError extends Error {
  constructor(readonly problems: { path: string; message: string }[]) {
    super(`invalid benefit catalogue: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    this.name = 'CatalogueError';
  }
}

/** Parses and validates a catalogue (e.g. a JSON file's content); throws CatalogueError. */
export function parseCatalogue(raw: unknown): Catalogue {
  const result = catalogueSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new CatalogueError(
    result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
  );
}

/** True when a member at `tier` qualifies for a benefit that starts at `minTier`. */
export function qualifies(tier: Tier, minTier: Tier): boolean {
  return tierRank(tier) >= tierRank(minTier);
}

/** The lowest tier holding a tier benefit; null for an 88VIP-bundle benefit. */
export function minTierOf(benefit: Pick<Benefit, 'audience'>): Tier | null {
  return 'minTier' in benefit.audience ? benefit.audience.minTier : null;
}

/** True for a benefit of the 88VIP bundle (held while a term runs, whatever the tier). */
export function inVip88Bundle(benefit: Pick<Benefit, 'audience'>): boolean {
  return 'vip88' in benefit.audience;
}
