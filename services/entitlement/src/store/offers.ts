import type { Tier } from '@taobi/contracts';
import type { Pool, PoolClient } from '@taobi/platform';

export interface OfferRow {
  id: string;
  merchant_id: string;
  shop_id: string;
  title: string;
  description: string;
  min_tier: Tier;
  min_tier_rank: number;
  percent_off: number;
  valid_from: Date;
  valid_to: Date;
  idempotency_key: string | null;
  created_at: Date;
  withdrawn_at: Date | null;
}

export interface NewOffer {
  merchantId: string;
  shopId: string;
  title: string;
  description: string;
  minTier: Tier;
  minTierRank: number;
  percentOff: number;
  validFrom: Date;
  validTo: Date;
  idempotencyKey: string | null;
}

/** Inserts an offer; with an Idempotency-Key already used by this merchant, returns undefined. */
export async function insertOffer(client: PoolClient, offer: NewOffer): Promise<OfferRow | undefined> {
  const { rows } = await client.query<OfferRow>(
    `INSERT INTO entitlement.offers
       (merchant_id, shop_id, title, description, min_tier, min_tier_rank, percent_off, valid_from, valid_to, idempotency_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (merchant_id, idempotency_key) DO NOTHING
     RETURNING *`,
    [
      offer.merchantId,
      offer.shopId,
      offer.title,
      offer.description,
      offer.minTier,
      offer.minTierRank,
      offer.percentOff,
      offer.validFrom,
      offer.validTo,
      offer.idempotencyKey,
    ],
  );
  return rows[0];
}

export async function findOfferByKey(
  client: PoolClient,
  merchantId: string,
  idempotencyKey: string,
): Promise<OfferRow | undefined> {
  const { rows } = await client.query<OfferRow>(
    'SELECT * FROM entitlement.offers WHERE merchant_id = $1 AND idempotency_key = $2',
    [merchantId, idempotencyKey],
  );
  return rows[0];
}

/** Offers live at `now` that a member of tier rank `rank` qualifies for, soonest-ending first. */
export async function liveOffersFor(pool: Pool, rank: number, now: Date, limit: number): Promise<OfferRow[]> {
  const { rows } = await pool.query<OfferRow>(
    `SELECT * FROM entitlement.offers
     WHERE withdrawn_at IS NULL AND valid_from <= $2 AND valid_to > $2 AND min_tier_rank <= $1
     ORDER BY valid_to, id LIMIT $3`,
    [rank, now, limit],
  );
  return rows;
}

export async function withdrawOffer(pool: Pool, offerId: string, now: Date): Promise<OfferRow | undefined> {
  const { rows } = await pool.query<OfferRow>(
    `UPDATE entitlement.offers SET withdrawn_at = COALESCE(withdrawn_at, $2) WHERE id = $1 RETURNING *`,
    [offerId, now],
  );
  return rows[0];
}
