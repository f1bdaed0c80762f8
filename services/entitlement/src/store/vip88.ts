import type { Tier } from '@taobi/contracts';
import { oneRow, type PoolClient } from '@taobi/platform';
import type { GrantRow } from './grants';

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
  /** When the term-end job closed the term; null while it runs or is due. */
  term_ended_at: Date | null;
}

export const findActivationByKey = oneRow<
  Vip88ActivationRow,
  [memberId: string, idempotencyKey: string],
  PoolClient
>('SELECT * FROM entitlement.vip88_activations WHERE member_id = $1 AND idempotency_key = $2');

/** The term running at `now`, if any (the latest one when terms were renewed back to back). */
export const activeActivation = oneRow<Vip88ActivationRow, [memberId: string, now: Date]>(
  `SELECT * FROM entitlement.vip88_activations
   WHERE member_id = $1 AND starts_at <= $2 AND expires_at > $2
   ORDER BY expires_at DESC LIMIT 1`,
);

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
export const overlappingActivation = oneRow<
  Vip88ActivationRow,
  [memberId: string, startsAt: Date, expiresAt: Date],
  PoolClient
>(
  `SELECT * FROM entitlement.vip88_activations
   WHERE member_id = $1 AND tstzrange(starts_at, expires_at) && tstzrange($2, $3)
   ORDER BY starts_at LIMIT 1`,
);

/**
 * Closes up to `limit` 88VIP terms that have ended and are not closed yet (all of them, or one
 * member's): revokes every live grant that ends with each term and marks the terms closed, in the
 * caller's transaction. Returns the terms closed and the grants revoked (with the member's tier).
 * The job skips terms another instance holds (SKIP LOCKED); a member's own activation waits for them
 * instead, so the new term's bundle never collides with an old term's live grants.
 */
export async function closeEndedTerms(
  client: PoolClient,
  now: Date,
  options: { memberId?: string; limit: number },
): Promise<{ terms: string[]; revoked: (GrantRow & { member_tier: Tier | null })[] }> {
  const { rows: due } = await client.query<{ id: string }>(
    `SELECT id FROM entitlement.vip88_activations
     WHERE term_ended_at IS NULL AND expires_at <= $1 AND ($2::text IS NULL OR member_id = $2)
     ORDER BY expires_at, id LIMIT $3
     FOR UPDATE ${options.memberId ? '' : 'SKIP LOCKED'}`,
    [now, options.memberId ?? null, options.limit],
  );
  const terms = due.map((row) => row.id);
  if (terms.length === 0) return { terms, revoked: [] };
  const { rows: revoked } = await client.query<GrantRow & { member_tier: Tier | null }>(
    `UPDATE entitlement.grants g
     SET status = 'revoked', revoked_at = $2, revoked_cause_id = 'vip88-term-end:' || g.vip88_activation_id
     WHERE g.vip88_activation_id = ANY($1::uuid[]) AND g.status = 'granted' AND g.ends_with_term
     RETURNING g.*, (SELECT m.tier FROM entitlement.members m WHERE m.member_id = g.member_id) AS member_tier`,
    [terms, now],
  );
  await client.query(
    'UPDATE entitlement.vip88_activations SET term_ended_at = $2 WHERE id = ANY($1::uuid[])',
    [terms, now],
  );
  return { terms, revoked: revoked.sort((a, b) => a.id - b.id) };
}
