import { createHash } from 'node:crypto';
import type { BenefitKind as RecordBenefitKind } from '@taobi/contracts';
import {
  type EntitlementAction,
  type EntitlementChanged,
  entitlementChangedSchema,
  type Tier,
} from '@taobi/contracts';
import type { OutboxRecord } from '@taobi/platform';

/**
 * Builds the entitlement-changed records the service publishes. Every eventId is derived from what
 * the record is about (member, benefit, grant key, action, or the causing record's id), never from
 * time or randomness, so re-enqueueing after a crash or a replay yields the same id: the outbox
 * skips it, and downstream apps can dedupe on it.
 */
export function stableEventId(...parts: string[]): string {
  return `ent-${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 40)}`;
}

export interface RecordInput {
  eventId: string;
  /** Null for an offer's own records (published, withdrawn): those are keyed by `merchantId`. */
  memberId: string | null;
  benefitId: string;
  benefitKind: RecordBenefitKind;
  action: EntitlementAction;
  tier: Tier | null;
  period: string | null;
  occurredAt: Date;
  merchantId?: string;
  details: Record<string, unknown>;
}

/** Producers parse before sending: a record that would not validate fails here, not downstream. */
export function entitlementRecord(input: RecordInput): OutboxRecord {
  const value: EntitlementChanged = entitlementChangedSchema.parse({
    eventId: input.eventId,
    schemaVersion: 1,
    memberId: input.memberId,
    occurredAt: input.occurredAt.toISOString(),
    benefitId: input.benefitId,
    benefitKind: input.benefitKind,
    action: input.action,
    tier: input.tier,
    period: input.period,
    ...(input.merchantId ? { merchantId: input.merchantId } : {}),
    details: input.details,
  });
  const key = value.memberId ?? value.merchantId ?? null;
  return { eventId: value.eventId, topic: 'entitlementChanged', key, payload: value };
}
