import type { Tier } from '@taobi/contracts';
import type { Pool, PoolClient } from '@taobi/platform';

export interface Vip88ActivationRow {
  id: string;
  member_id: string;
  idempotency_key: string;
  tier: Tier;
  price_fen: number;
  currency: 'CNY';
  starts_at: Date;
  expires_at: Date;
  catalogue_version: string;
  created_at: Date;
}

export async function findActivationByKey(
  client: PoolClient,
  memberId: string,
  idempotencyKey: string,
): Promise<Vip88ActivationRow | undefined> {
  const { rows } = await client.query<Vip88ActivationRow>(
    'SELECT * FROM entitlement.vip88_activations WHERE member_id = $1 AND idempotency_key = $2',
    [memberId, idempotencyKey],
  );
  return rows[0];
}

/** The term running at `now`, if any (the latest one when terms were renewed back to back). */
export async function activeActivation(
  db: Pool | PoolClient,
  memberId: string,
  now: Date,
): Promise<Vip88ActivationRow | undefined> {
  const { rows } = await db.query<Vip88ActivationRow>(
    `SELECT * FROM entitlement.vip88_activations
     WHERE member_id = $1 AND starts_at <= $2 AND expires_at > $2
     ORDER BY expires_at DESC LIMIT 1`,
    [memberId, now],
  );
  return rows[0];
}

/**
 * Inserts a term unless it overlaps one the member already holds (the exclusion constraint
 * `vip88_one_term_at_a_time` decides, so concurrent or clock-skewed callers cannot both win);
 * `undefined` when it does.
 */
export async function insertActivation(
  client: PoolClient,
  activation: {
    memberId: string;
    idempotencyKey: string;
    tier: Tier;
    priceFen: number;
    currency: string;
    startsAt: Date;
    expiresAt: Date;
    catalogueVersion: string;
  },
): Promise<Vip88ActivationRow | undefined> {
  const { rows } = await client.query<Vip88ActivationRow>(
    `INSERT INTO entitlement.vip88_activations
       (member_id, idempotency_key, tier, price_fen, currency, starts_at, expires_at, catalogue_version)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT ON CONSTRAINT vip88_one_term_at_a_time DO NOTHING
     RETURNING *`,
    [
      activation.memberId,
      activation.idempotencyKey,
      activation.tier,
      activation.priceFen,
      activation.currency,
      activation.startsAt,
      activation.expiresAt,
      activation.catalogueVersion,
    ],
  );
  return rows[0];
}

/** The member's term overlapping [startsAt, expiresAt), the one an insert collided with. */
export async function overlappingActivation(
  client: PoolClient,
  memberId: string,
  startsAt: Date,
  expiresAt: Date,
): Promise<Vip88ActivationRow | undefined> {
  const { rows } = await client.query<Vip88ActivationRow>(
    `SELECT * FROM entitlement.vip88_activations
     WHERE member_id = $1 AND tstzrange(starts_at, expires_at) && tstzrange($2, $3)
     ORDER BY starts_at LIMIT 1`,
    [memberId, startsAt, expiresAt],
  );
  return rows[0];
}
