import type { Tier } from '@taobi/contracts';
import { oneRow, type Pool, type PoolClient } from '@taobi/platform';

export type GrantStatus = 'granted' | 'used' | 'revoked' | 'expired';
export type GrantCause = 'tier-change' | 'periodic-issue' | 'welcome-gift-draw' | 'vip88-activation';

export interface GrantRow {
  id: number;
  member_id: string;
  benefit_id: string;
  kind: 'status' | 'one-time' | 'periodic';
  grant_key: string;
  period: string | null;
  status: GrantStatus;
  tier: Tier;
  catalogue_version: string;
  cause: GrantCause;
  cause_id: string | null;
  details: Record<string, unknown>;
  granted_at: Date;
  expires_at: Date | null;
  used_at: Date | null;
  revoked_at: Date | null;
  revoked_cause_id: string | null;
  expired_at: Date | null;
  /** 88VIP bundle grants: the term they belong to. */
  vip88_activation_id: string | null;
  /** Ends with the term: revoked by the term-end job at `expires_at`, never expired by the sweep. */
  ends_with_term: boolean;
}

export interface NewGrant {
  memberId: string;
  benefitId: string;
  kind: GrantRow['kind'];
  grantKey: string;
  period: string | null;
  tier: Tier;
  catalogueVersion: string;
  cause: GrantCause;
  causeId: string | null;
  details: Record<string, unknown>;
  grantedAt: Date;
  expiresAt: Date | null;
  vip88ActivationId?: string | null;
  endsWithTerm?: boolean;
}

/**
 * Inserts grants, skipping every one that would break a uniqueness rule: (member, benefit, key), or
 * a second live grant of a status benefit. No conflict target: ON CONFLICT DO NOTHING covers both
 * constraints. Returns only the rows actually inserted, which are the ones to publish.
 */
export async function insertGrants(client: PoolClient, grants: readonly NewGrant[]): Promise<GrantRow[]> {
  if (grants.length === 0) return [];
  const { rows } = await client.query<GrantRow>(
    `INSERT INTO entitlement.grants
       (member_id, benefit_id, kind, grant_key, period, status, tier, catalogue_version, cause, cause_id,
        details, granted_at, expires_at, vip88_activation_id, ends_with_term)
     SELECT g.member_id, g.benefit_id, g.kind, g.grant_key, g.period, 'granted', g.tier, g.catalogue_version,
            g.cause, g.cause_id, g.details::jsonb, g.granted_at, g.expires_at, g.vip88_activation_id, g.ends_with_term
     FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                 $9::text[], $10::text[], $11::timestamptz[], $12::timestamptz[], $13::uuid[], $14::boolean[])
       WITH ORDINALITY AS g(member_id, benefit_id, kind, grant_key, period, tier, catalogue_version, cause,
                            cause_id, details, granted_at, expires_at, vip88_activation_id, ends_with_term, n)
     ORDER BY g.n
     ON CONFLICT DO NOTHING
     RETURNING *`,
    [
      grants.map((g) => g.memberId),
      grants.map((g) => g.benefitId),
      grants.map((g) => g.kind),
      grants.map((g) => g.grantKey),
      grants.map((g) => g.period),
      grants.map((g) => g.tier),
      grants.map((g) => g.catalogueVersion),
      grants.map((g) => g.cause),
      grants.map((g) => g.causeId),
      grants.map((g) => JSON.stringify(g.details)),
      grants.map((g) => g.grantedAt),
      grants.map((g) => g.expiresAt),
      grants.map((g) => g.vip88ActivationId ?? null),
      grants.map((g) => g.endsWithTerm ?? false),
    ],
  );
  return rows.sort((a, b) => a.id - b.id);
}

/**
 * Revokes the member's live grants named (of a benefit, under one key when `grantKey` is given):
 * `granted` and not past their validity. Used, expired and already revoked rows are left as they
 * are, and so are 88VIP-bundle grants (their term ends them). Returns the rows revoked.
 */
export async function revokeLiveGrants(
  client: PoolClient,
  revocations: readonly { memberId: string; benefitId: string; grantKey: string | null; causeId: string }[],
  now: Date,
): Promise<GrantRow[]> {
  if (revocations.length === 0) return [];
  const { rows } = await client.query<GrantRow>(
    `UPDATE entitlement.grants g
     SET status = 'revoked', revoked_at = $5, revoked_cause_id = r.cause_id
     FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[]) AS r(member_id, benefit_id, grant_key, cause_id)
     WHERE g.member_id = r.member_id AND g.benefit_id = r.benefit_id
       AND (r.grant_key IS NULL OR g.grant_key = r.grant_key)
       AND g.status = 'granted' AND (g.expires_at IS NULL OR g.expires_at > $5) AND g.vip88_activation_id IS NULL
     RETURNING g.*`,
    [
      revocations.map((r) => r.memberId),
      revocations.map((r) => r.benefitId),
      revocations.map((r) => r.grantKey),
      revocations.map((r) => r.causeId),
      now,
    ],
  );
  return rows.sort((a, b) => a.id - b.id);
}

/**
 * A member's grants, newest first, keyset-paged by id. The status filter uses the status clients
 * see: a live grant past its expiry counts as expired even before the sweep marked it.
 */
export async function listGrants(
  pool: Pool,
  memberId: string,
  options: { limit: number; before?: number | undefined; status?: GrantStatus | undefined; now: Date },
): Promise<GrantRow[]> {
  const { rows } = await pool.query<GrantRow>(
    `SELECT * FROM entitlement.grants
     WHERE member_id = $1 AND ($2::bigint IS NULL OR id < $2)
       AND CASE $4::text
             WHEN 'granted' THEN status = 'granted' AND (expires_at IS NULL OR expires_at > $5)
             WHEN 'expired' THEN status = 'expired' OR (status = 'granted' AND expires_at <= $5 AND NOT ends_with_term)
             WHEN 'revoked' THEN status = 'revoked' OR (status = 'granted' AND expires_at <= $5 AND ends_with_term)
             WHEN '' THEN true
             ELSE status = $4::text
           END
     ORDER BY id DESC LIMIT $3`,
    [memberId, options.before ?? null, options.limit, options.status ?? '', options.now],
  );
  return rows;
}

export const lockGrant = oneRow<GrantRow, [memberId: string, grantId: number], PoolClient>(
  'SELECT * FROM entitlement.grants WHERE member_id = $1 AND id = $2 FOR UPDATE',
);

export async function markUsed(client: PoolClient, grantId: number, now: Date): Promise<GrantRow> {
  const { rows } = await client.query<GrantRow>(
    `UPDATE entitlement.grants SET status = 'used', used_at = $2 WHERE id = $1 RETURNING *`,
    [grantId, now],
  );
  return rows[0] as GrantRow;
}

/**
 * Marks up to `limit` live grants whose validity ended as expired; returns them with the member's
 * current tier. SKIP LOCKED lets two instances sweep side by side without waiting on each other.
 * Grants that end with an 88VIP term are left to the term-end job (they are revoked, not expired).
 */
export async function expireDueGrants(
  client: PoolClient,
  now: Date,
  limit: number,
): Promise<(GrantRow & { member_tier: Tier | null })[]> {
  const { rows } = await client.query<GrantRow & { member_tier: Tier | null }>(
    `WITH due AS (
       SELECT id FROM entitlement.grants
       WHERE status = 'granted' AND expires_at IS NOT NULL AND expires_at <= $1 AND NOT ends_with_term
       ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
     )
     UPDATE entitlement.grants g SET status = 'expired', expired_at = $1
     FROM due WHERE g.id = due.id
     RETURNING g.*, (SELECT m.tier FROM entitlement.members m WHERE m.member_id = g.member_id) AS member_tier`,
    [now, limit],
  );
  return rows.sort((a, b) => a.id - b.id);
}

/** The grants of one 88VIP term (its bundle), in grant order. */
export async function grantsOfTerm(pool: Pool, activationId: string): Promise<GrantRow[]> {
  const { rows } = await pool.query<GrantRow>(
    'SELECT * FROM entitlement.grants WHERE vip88_activation_id = $1 ORDER BY id',
    [activationId],
  );
  return rows;
}
