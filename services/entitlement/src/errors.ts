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
  periodEnded: (period: string) =>
    new AppError('PERIOD_ENDED', `period ${period} has ended; its benefits would expire on issue`, 422),
} as const;
