import { type Catalogue, findBenefit } from '@taobi/benefits';
import type { EntitlementAction, Tier } from '@taobi/contracts';
import type { OutboxRecord } from '@taobi/platform';
import type { GrantRow, GrantStatus } from '../store/grants';
import { entitlementRecord, stableEventId } from './records';

/**
 * A grant row as clients see it. A live grant whose validity has ended reads as `expired` even
 * before the sweep (run with the periodic job) has marked and published it; one that ended with its
 * 88VIP term reads `revoked` before the term-end job has marked and published it.
 */
export function effectiveStatus(row: GrantRow, now: Date): GrantStatus {
  if (row.status === 'granted' && row.expires_at && row.expires_at.getTime() <= now.getTime())
    return row.ends_with_term ? 'revoked' : 'expired';
  return row.status;
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export function entitlementView(catalogue: Catalogue, row: GrantRow, now: Date) {
  const benefit = findBenefit(catalogue, row.benefit_id);
  return {
    id: String(row.id),
    benefitId: row.benefit_id,
    name: benefit?.name ?? null,
    kind: row.kind,
    status: effectiveStatus(row, now),
    period: row.period,
    tier: row.tier,
    grantedAt: row.granted_at.toISOString(),
    expiresAt: iso(row.expires_at),
    usedAt: iso(row.used_at),
    revokedAt: iso(row.revoked_at),
    expiredAt: iso(row.expired_at),
    cause: row.cause,
    causeId: row.cause_id,
    catalogueVersion: row.catalogue_version,
    audience: benefit?.audience ?? null,
    vip88ActivationId: row.vip88_activation_id,
    fulfilment: benefit?.fulfilment ?? null,
    details: row.details,
  };
}
export type EntitlementView = ReturnType<typeof entitlementView>;

/**
 * The entitlement-changed record for a grant row and an action. The eventId is derived from the
 * grant's unique key and the action, so the same change always has the same id.
 */
export function grantRecord(
  catalogue: Catalogue,
  row: GrantRow,
  action: Extract<EntitlementAction, 'granted' | 'revoked' | 'used' | 'expired'>,
  memberTier: Tier,
  occurredAt: Date,
): OutboxRecord {
  const benefit = findBenefit(catalogue, row.benefit_id);
  return entitlementRecord({
    eventId: stableEventId(row.member_id, row.benefit_id, row.grant_key, action),
    memberId: row.member_id,
    benefitId: row.benefit_id,
    benefitKind: row.kind,
    action,
    tier: memberTier,
    period: row.period,
    occurredAt,
    details: {
      entitlementId: String(row.id),
      name: benefit?.name ?? null,
      status: row.status,
      cause: row.cause,
      causeId: row.cause_id,
      ...(action === 'revoked' ? { revokedBy: row.revoked_cause_id } : {}),
      ...(row.vip88_activation_id ? { vip88ActivationId: row.vip88_activation_id } : {}),
      grantedAt: row.granted_at.toISOString(),
      expiresAt: iso(row.expires_at),
      catalogueVersion: row.catalogue_version,
      ...(benefit ? { fulfilment: benefit.fulfilment } : {}),
    },
  });
}
