import type { Tier } from '@taobi/contracts';
import type { Pool, PoolClient } from '@taobi/platform';

export interface WelcomeDrawRow {
  member_id: string;
  seed: string;
  algorithm: string;
  catalogue_version: string;
  tier: Tier;
  probability: number;
  value: number;
  won: boolean;
  grant_id: number | null;
  drawn_at: Date;
}

export async function findDraw(db: Pool | PoolClient, memberId: string): Promise<WelcomeDrawRow | undefined> {
  const { rows } = await db.query<WelcomeDrawRow>(
    'SELECT * FROM entitlement.welcome_draws WHERE member_id = $1',
    [memberId],
  );
  return rows[0];
}

export async function insertDraw(client: PoolClient, draw: WelcomeDrawRow): Promise<WelcomeDrawRow> {
  const { rows } = await client.query<WelcomeDrawRow>(
    `INSERT INTO entitlement.welcome_draws
       (member_id, seed, algorithm, catalogue_version, tier, probability, value, won, grant_id, drawn_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
    [
      draw.member_id,
      draw.seed,
      draw.algorithm,
      draw.catalogue_version,
      draw.tier,
      draw.probability,
      draw.value,
      draw.won,
      draw.grant_id,
      draw.drawn_at,
    ],
  );
  return rows[0] as WelcomeDrawRow;
}
