import type { PeriodicIssue } from '@taobi/benefits';
import type { PoolClient } from '@taobi/platform';
import type { GrantRow } from './grants';

export interface PeriodicRunRow {
  period: string;
  cadence: string;
  cursor: string;
  members_scanned: number;
  granted: number;
  started_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

/** Creates the period's run if needed and locks it: two runners of one period take turns by page. */
export async function lockRun(client: PoolClient, period: string, cadence: string): Promise<PeriodicRunRow> {
  await client.query(
    `INSERT INTO entitlement.periodic_runs (period, cadence) VALUES ($1, $2) ON CONFLICT (period) DO NOTHING`,
    [period, cadence],
  );
  const { rows } = await client.query<PeriodicRunRow>(
    'SELECT * FROM entitlement.periodic_runs WHERE period = $1 FOR UPDATE',
    [period],
  );
  return rows[0] as PeriodicRunRow;
}

export async function restartRun(client: PoolClient, period: string): Promise<void> {
  await client.query(
    `UPDATE entitlement.periodic_runs SET cursor = '', finished_at = NULL, updated_at = now() WHERE period = $1`,
    [period],
  );
}

export async function nextMemberPage(
  client: PoolClient,
  cursor: string,
  pageSize: number,
): Promise<{ member_id: string }[]> {
  const { rows } = await client.query<{ member_id: string }>(
    'SELECT member_id FROM entitlement.members WHERE member_id > $1 ORDER BY member_id LIMIT $2',
    [cursor, pageSize],
  );
  return rows;
}

/**
 * Grants the period's benefits to every member of the page whose current tier qualifies, and its
 * 88VIP-bundle benefits to every member of the page whose 88VIP term runs at `now` (keyed by period
 * and term, ending with the term when it ends first), in one statement; a grant that exists (from
 * the tier change or activation that brought the member in, or from an earlier run) is skipped by
 * the unique key.
 */
export async function issuePage(
  client: PoolClient,
  issue: PeriodicIssue,
  memberIds: readonly string[],
  options: { catalogueVersion: string; now: Date; runId: string },
): Promise<GrantRow[]> {
  const { rows } = await client.query<GrantRow>(
    `INSERT INTO entitlement.grants
       (member_id, benefit_id, kind, grant_key, period, status, tier, catalogue_version, cause, cause_id,
        details, granted_at, expires_at, vip88_activation_id, ends_with_term)
     SELECT m.member_id, b.benefit_id, 'periodic', $3, $3, 'granted', m.tier, $4, 'periodic-issue', $5,
            '{}'::jsonb, $6, $7, NULL::uuid, false
     FROM entitlement.members m
     JOIN UNNEST($1::text[], $2::int[]) AS b(benefit_id, min_rank) ON m.tier_rank >= b.min_rank
     WHERE m.member_id = ANY($8::text[])
     UNION ALL
     SELECT m.member_id, v.benefit_id, 'periodic', $3 || '@term:' || a.id, $3, 'granted', m.tier, $4,
            'periodic-issue', $5, '{}'::jsonb, $6, LEAST($7, a.expires_at), a.id, a.expires_at <= $7
     FROM entitlement.members m
     JOIN entitlement.vip88_activations a
       ON a.member_id = m.member_id AND a.starts_at <= $6 AND a.expires_at > $6
     CROSS JOIN UNNEST($9::text[]) AS v(benefit_id)
     WHERE m.member_id = ANY($8::text[])
     ORDER BY 1, 2
     ON CONFLICT DO NOTHING
     RETURNING *`,
    [
      issue.benefits.map((b) => b.benefitId),
      issue.benefits.map((b) => b.minTierRank),
      issue.period.key,
      options.catalogueVersion,
      options.runId,
      options.now,
      issue.period.end,
      memberIds,
      issue.vip88Benefits,
    ],
  );
  return rows;
}

export async function advanceRun(
  client: PoolClient,
  period: string,
  progress: { cursor: string; scanned: number; granted: number; finished: boolean },
): Promise<void> {
  await client.query(
    `UPDATE entitlement.periodic_runs
     SET cursor = $2, members_scanned = members_scanned + $3, granted = granted + $4, updated_at = now(),
         finished_at = CASE WHEN $5 THEN now() ELSE NULL END
     WHERE period = $1`,
    [period, progress.cursor, progress.scanned, progress.granted, progress.finished],
  );
}
