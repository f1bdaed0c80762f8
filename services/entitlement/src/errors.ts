import { AppError, type FieldError } from '@taobi/platform';

/** The entitlement service's own client-visible errors (the platform's `Errors` cover the rest). */
export const EntitlementErrors = {
  /** The member holds a term overlapping the one asked for; the body names it (id, dates). */
  vip88AlreadyActive: (held: { id: string; startsAt: string; expiresAt: string }) =>
    new AppError(
      'VIP88_ALREADY_ACTIVE',
      `88VIP term ${held.id} runs until ${held.expiresAt}; a new term can start once it expires`,
      409,
      { details: { activationId: held.id, startsAt: held.startsAt, expiresAt: held.expiresAt } },
    ),
  idempotencyKeyRequired: (fields: FieldError[]) =>
    new AppError(
      'IDEMPOTENCY_KEY_REQUIRED',
      'send an Idempotency-Key header (1 to 128 of A-Z a-z 0-9 _ . : -)',
      400,
      {
        fields,
      },
    ),
  idempotencyKeyReused: () =>
    new AppError(
      'IDEMPOTENCY_KEY_REUSED',
      'this Idempotency-Key was already used for a different request',
      422,
    ),
  entitlementNotUsable: (status: string) =>
    new AppError('ENTITLEMENT_NOT_USABLE', `this entitlement is ${status} and cannot be used`, 409),
  offerNotLive: (offerId: string, status: string) =>
    new AppError('OFFER_NOT_LIVE', `offer ${offerId} is ${status}: it cannot be redeemed now`, 409, {
      details: { offerId, status },
    }),
  offerNotEligible: (offerId: string, reason: string) =>
    new AppError('OFFER_NOT_ELIGIBLE', `the member does not qualify for offer ${offerId}: ${reason}`, 409, {
      details: { offerId },
    }),
  offerBudgetExhausted: (offerId: string, budget: number) =>
    new AppError(
      'OFFER_BUDGET_EXHAUSTED',
      `offer ${offerId} has been redeemed ${budget} times, its budget`,
      409,
      {
        details: { offerId, budget },
      },
    ),
  /** The member redeemed this offer already (under another Idempotency-Key); the body names it. */
  offerAlreadyRedeemed: (offerId: string, redemptionId: string) =>
    new AppError('OFFER_ALREADY_REDEEMED', `the member has redeemed offer ${offerId} already`, 409, {
      details: { offerId, redemptionId },
    }),
  periodEnded: (period: string) =>
    new AppError('PERIOD_ENDED', `period ${period} has ended; its benefits would expire on issue`, 422),
} as const;
