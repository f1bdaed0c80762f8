import type { Tier } from '@taobi/contracts';
import { oneRow, type Pool, type PoolClient } from '@taobi/platform';

export interface OfferRow {
  id: string;
  merchant_id: string;
  shop_id: string | null;
  title: string;
  description: string;
  percent_off: number;
  /** Null: every tier. */
  audience_tiers: Tier[] | null;
  /** Null: every category. */
  audience_categories: string[] | null;
  audience_vip88: boolean;
  valid_from: Date;
  valid_to: Date;
  budget: number;
  redeemed: number;
  idempotency_key: string | null;
  created_at: Date;
  withdrawn_at: Date | null;
}

export interface NewOffer {
  merchantId: string;
  shopId: string | null;
  title: string;
  description: string;
  percentOff: number;
  audience: { tiers: Tier[] | null; categories: string[] | null; vip88: boolean };
  validFrom: Date;
  validTo: Date;
  budget: number;
  idempotencyKey: string | null;
}

export interface RedemptionRow {
  id: string;
  offer_id: string;
  member_id: string;
  idempotency_key: string;
  tier: Tier;
  redeemed_at: Date;
}

/** Inserts an offer; with an Idempotency-Key this merchant already used, returns undefined. */
export async function insertOffer(client: PoolClient, offer: NewOffer): Promise<OfferRow | undefined> {
  const { rows } = await client.query<OfferRow>(
    `INSERT INTO entitlement.offers
       (merchant_id, shop_id, title, description, percent_off, audience_tiers, audience_categories,
        audience_vip88, valid_from, valid_to, budget, idempotency_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (merchant_id, idempotency_key) DO NOTHING
     RETURNING *`,
    [
      offer.merchantId,
      offer.shopId,
      offer.title,
      offer.description,
      offer.percentOff,
      offer.audience.tiers,
      offer.audience.categories,
      offer.audience.vip88,
      offer.validFrom,
      offer.validTo,
      offer.budget,
      offer.idempotencyKey,
    ],
  );
  return rows[0];
}

export const findOfferByKey = oneRow<OfferRow, [merchantId: string, idempotencyKey: string], PoolClient>(
  'SELECT * FROM entitlement.offers WHERE merchant_id = $1 AND idempotency_key = $2',
);

export const findOffer = oneRow<OfferRow, [offerId: string]>(
  'SELECT * FROM entitlement.offers WHERE id = $1',
);

/** A merchant's offers, newest first. */
export async function offersOfMerchant(pool: Pool, merchantId: string, limit: number): Promise<OfferRow[]> {
  const { rows } = await pool.query<OfferRow>(
    'SELECT * FROM entitlement.offers WHERE merchant_id = $1 ORDER BY created_at DESC, id LIMIT $2',
    [merchantId, limit],
  );
  return rows;
}

/**
 * The merchant offers a member qualifies for at `now`, soonest-ending first: live (not withdrawn,
 * inside the window), budget left, the member's tier in the audience (or no tier restriction), an
 * 88VIP term when the offer asks for one, not yet redeemed by the member; narrowed to a category
 * (offers for it or for every category) and a merchant when asked.
 */
export async function offersForMember(
  pool: Pool,
  query: {
    memberId: string;
    tier: Tier;
    vip88: boolean;
    category?: string | undefined;
    merchantId?: string | undefined;
    now: Date;
    limit: number;
  },
): Promise<OfferRow[]> {
  const { rows } = await pool.query<OfferRow>(
    `SELECT o.* FROM entitlement.offers o
     WHERE o.withdrawn_at IS NULL AND o.valid_from <= $1 AND o.valid_to > $1 AND o.redeemed < o.budget
       AND (o.audience_tiers IS NULL OR $2 = ANY(o.audience_tiers))
       AND (NOT o.audience_vip88 OR $3)
       AND ($4::text IS NULL OR o.audience_categories IS NULL OR $4 = ANY(o.audience_categories))
       AND ($5::text IS NULL OR o.merchant_id = $5)
       AND NOT EXISTS (
         SELECT 1 FROM entitlement.offer_redemptions r WHERE r.offer_id = o.id AND r.member_id = $6)
     ORDER BY o.valid_to, o.id LIMIT $7`,
    [
      query.now,
      query.tier,
      query.vip88,
      query.category ?? null,
      query.merchantId ?? null,
      query.memberId,
      query.limit,
    ],
  );
  return rows;
}

/** Withdraws an offer (the first withdrawal's time is kept); undefined when there is no such offer. */
export const withdrawOffer = oneRow<OfferRow, [offerId: string, now: Date], PoolClient>(
  'UPDATE entitlement.offers SET withdrawn_at = COALESCE(withdrawn_at, $2) WHERE id = $1 RETURNING *',
);

/**
 * Counts one redemption against the offer's budget if the offer is live and has budget left, in one
 * conditional UPDATE: concurrent callers queue on the offer's row and each re-checks `redeemed <
 * budget` on the row it finally updates, so the budget is never exceeded (and the table's CHECK
 * would refuse it anyway). Undefined when nothing was left or the offer is no longer live.
 */
export const claimBudget = oneRow<OfferRow, [offerId: string, now: Date], PoolClient>(
  `UPDATE entitlement.offers SET redeemed = redeemed + 1
   WHERE id = $1 AND redeemed < budget AND withdrawn_at IS NULL AND valid_from <= $2 AND valid_to > $2
   RETURNING *`,
);

export const findRedemptionByKey = oneRow<
  RedemptionRow,
  [memberId: string, idempotencyKey: string],
  PoolClient
>('SELECT * FROM entitlement.offer_redemptions WHERE member_id = $1 AND idempotency_key = $2');

export const findRedemption = oneRow<RedemptionRow, [offerId: string, memberId: string], PoolClient>(
  'SELECT * FROM entitlement.offer_redemptions WHERE offer_id = $1 AND member_id = $2',
);

export async function insertRedemption(
  client: PoolClient,
  redemption: { offerId: string; memberId: string; idempotencyKey: string; tier: Tier; redeemedAt: Date },
): Promise<RedemptionRow> {
  const { rows } = await client.query<RedemptionRow>(
    `INSERT INTO entitlement.offer_redemptions (offer_id, member_id, idempotency_key, tier, redeemed_at)
     VALUES ($1, $2, $3, $4, $5) RETURNING *`,
    [
      redemption.offerId,
      redemption.memberId,
      redemption.idempotencyKey,
      redemption.tier,
      redemption.redeemedAt,
    ],
  );
  return rows[0] as RedemptionRow;
}
