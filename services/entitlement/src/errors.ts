import { errorKind, type FieldError } from '@taobi/platform';

/** The entitlement service's own client-visible errors (the platform's `Errors` cover the rest). */
export const EntitlementErrors = {
  /** The member holds a term overlapping the one asked for; the body names it (id, dates). */
  vip88AlreadyActive: errorKind(
    'VIP88_ALREADY_ACTIVE',
    409,
    (held: { id: string; startsAt: string; expiresAt: string }) => ({
      message: `88VIP term ${held.id} runs until ${held.expiresAt}; a new term can start once it expires`,
      details: { activationId: held.id, startsAt: held.startsAt, expiresAt: held.expiresAt },
    }),
  ),
  idempotencyKeyRequired: errorKind('IDEMPOTENCY_KEY_REQUIRED', 400, (fields: FieldError[]) => ({
    message: 'send an Idempotency-Key header (1 to 128 of A-Z a-z 0-9 _ . : -)',
    fields,
  })),
  idempotencyKeyReused: errorKind('IDEMPOTENCY_KEY_REUSED', 422, () => ({
    message: 'this Idempotency-Key was already used for a different request',
  })),
  entitlementNotUsable: errorKind('ENTITLEMENT_NOT_USABLE', 409, (status: string) => ({
    message: `this entitlement is ${status} and cannot be used`,
  })),
  offerNotLive: errorKind('OFFER_NOT_LIVE', 409, (offerId: string, status: string) => ({
    message: `offer ${offerId} is ${status}: it cannot be redeemed now`,
    details: { offerId, status },
  })),
  offerNotEligible: errorKind('OFFER_NOT_ELIGIBLE', 409, (offerId: string, reason: string) => ({
    message: `the member does not qualify for offer ${offerId}: ${reason}`,
    details: { offerId },
  })),
  offerBudgetExhausted: errorKind('OFFER_BUDGET_EXHAUSTED', 409, (offerId: string, budget: number) => ({
    message: `offer ${offerId} has been redeemed ${budget} times, its budget`,
    details: { offerId, budget },
  })),
  /** The member redeemed this offer already (under another Idempotency-Key); the body names it. */
  offerAlreadyRedeemed: errorKind('OFFER_ALREADY_REDEEMED', 409, (offerId: string, redemptionId: string) => ({
    message: `the member has redeemed offer ${offerId} already`,
    details: { offerId, redemptionId },
  })),
  periodEnded: errorKind('PERIOD_ENDED', 422, (period: string) => ({
    message: `period ${period} has ended; its benefits would expire on issue`,
  })),
} as const;
