import type { Period } from '@taobi/benefits';
import { type Tier, tierRank } from '@taobi/contracts';
import type { Pool, PoolClient } from '@taobi/platform';

export interface CampaignRow {
  campaign: string;
  starts_at: Date;
  ends_at: Date;
  /** Secret until `ends_at`: never served before. */
  seed: string;
  commitment: string;
  committed_at: Date;
}

export interface DrawRow {
  id: string;
  member_id: string;
  tier: Tier;
  campaign: string;
  algorithm: string;
  catalogue_version: string;
  probability: number;
  value: number;
  won: boolean;
  grant_id: number | null;
  cause_id: string;
  drawn_at: Date;
}

/**
 * Creates the campaigns that do not exist yet, each with a fresh seed and its commitment (committed
 * now), and returns them all. A campaign's seed is never replaced: ON CONFLICT keeps the first.
 */
export async function ensureCampaigns(
  db: Pool | PoolClient,
  periods: readonly Period[],
  seal: (period: Period) => { seed: string; commitment: string },
  now: Date,
): Promise<CampaignRow[]> {
  const sealed = periods.map((period) => ({ period, ...seal(period) }));
  await db.query(
    `INSERT INTO entitlement.lottery_campaigns (campaign, starts_at, ends_at, seed, commitment, committed_at)
     SELECT * FROM UNNEST($1::text[], $2::timestamptz[], $3::timestamptz[], $4::text[], $5::text[])
       CROSS JOIN (SELECT $6::timestamptz) AS c(committed_at)
     ON CONFLICT (campaign) DO NOTHING`,
    [
      sealed.map((s) => s.period.key),
      sealed.map((s) => s.period.start),
      sealed.map((s) => s.period.end),
      sealed.map((s) => s.seed),
      sealed.map((s) => s.commitment),
      now,
    ],
  );
  const { rows } = await db.query<CampaignRow>(
    'SELECT * FROM entitlement.lottery_campaigns WHERE campaign = ANY($1::text[]) ORDER BY starts_at',
    [periods.map((p) => p.key)],
  );
  return rows;
}

/** The latest campaigns, newest first. */
export async function listCampaigns(pool: Pool, limit: number): Promise<CampaignRow[]> {
  const { rows } = await pool.query<CampaignRow>(
    'SELECT * FROM entitlement.lottery_campaigns ORDER BY starts_at DESC LIMIT $1',
    [limit],
  );
  return rows;
}

export async function findCampaign(pool: Pool, campaign: string): Promise<CampaignRow | undefined> {
  const { rows } = await pool.query<CampaignRow>(
    'SELECT * FROM entitlement.lottery_campaigns WHERE campaign = $1',
    [campaign],
  );
  return rows[0];
}

/** The (member, tier) pairs among these that have drawn already. */
export async function drawnAlready(
  client: PoolClient,
  pairs: readonly { memberId: string; tier: Tier }[],
): Promise<Set<string>> {
  if (pairs.length === 0) return new Set();
  const { rows } = await client.query<{ member_id: string; tier: string }>(
    `SELECT d.member_id, d.tier FROM entitlement.lottery_draws d
     JOIN UNNEST($1::text[], $2::text[]) AS p(member_id, tier) ON d.member_id = p.member_id AND d.tier = p.tier`,
    [pairs.map((p) => p.memberId), pairs.map((p) => p.tier)],
  );
  return new Set(rows.map((row) => `${row.member_id}|${row.tier}`));
}

export async function insertDraws(client: PoolClient, draws: readonly DrawRow[]): Promise<void> {
  if (draws.length === 0) return;
  await client.query(
    `INSERT INTO entitlement.lottery_draws
       (id, member_id, tier, campaign, algorithm, catalogue_version, probability, value, won, grant_id, cause_id, drawn_at)
     SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
       $7::float8[], $8::float8[], $9::boolean[], $10::bigint[], $11::text[], $12::timestamptz[])`,
    [
      draws.map((d) => d.id),
      draws.map((d) => d.member_id),
      draws.map((d) => d.tier),
      draws.map((d) => d.campaign),
      draws.map((d) => d.algorithm),
      draws.map((d) => d.catalogue_version),
      draws.map((d) => d.probability),
      draws.map((d) => d.value),
      draws.map((d) => d.won),
      draws.map((d) => d.grant_id),
      draws.map((d) => d.cause_id),
      draws.map((d) => d.drawn_at),
    ],
  );
}

export async function findDraw(pool: Pool, drawId: string): Promise<DrawRow | undefined> {
  const { rows } = await pool.query<DrawRow>('SELECT * FROM entitlement.lottery_draws WHERE id = $1', [
    drawId,
  ]);
  return rows[0];
}

/** A member's draws, oldest first, lower tier first when drawn together (one per tier reached). */
export async function drawsOfMember(pool: Pool, memberId: string): Promise<DrawRow[]> {
  const { rows } = await pool.query<DrawRow>('SELECT * FROM entitlement.lottery_draws WHERE member_id = $1', [
    memberId,
  ]);
  return rows.sort(
    (a, b) => a.drawn_at.getTime() - b.drawn_at.getTime() || tierRank(a.tier) - tierRank(b.tier),
  );
}
