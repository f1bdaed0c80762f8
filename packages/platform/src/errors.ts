/**
 * One error type for the whole platform. Every error a client can see has a stable `code`
 * (clients switch on it), an HTTP status, and says whether retrying can help.
 */
export interface FieldError {
  /** Dotted path of the offending field, e.g. `events.3.amount`; empty for the body itself. */
  field: string;
  message: string;
}

export interface AppErrorOptions {
  retriable?: boolean;
  fields?: FieldError[];
  headers?: Record<string, string>;
  /** Extra members of the error body that tell the client what it ran into, e.g. the id of what
   *  already exists (never `code`, `message` or `fields`). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly retriable: boolean;
  readonly fields: FieldError[] | undefined;
  readonly headers: Record<string, string>;
  readonly details: Record<string, unknown>;

  constructor(
    readonly code: string,
    message: string,
    readonly statusCode: number,
    options: AppErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.retriable = options.retriable ?? false;
    this.fields = options.fields;
    this.headers = options.headers ?? {};
    this.details = options.details ?? {};
  }

  toJSON(): { error: { code: string; message: string; fields?: FieldError[]; [detail: string]: unknown } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...this.details,
        ...(this.fields ? { fields: this.fields } : {}),
      },
    };
  }
}

/** The catalogue of client-visible errors; services add their own codes through `new AppError`. */
export const Errors = {
  validation: (fields: FieldError[], message = 'request validation failed') =>
    new AppError('VALIDATION_FAILED', message, 400, { fields }),
  invalidJson: (message: string) => new AppError('INVALID_JSON', message, 400),
  /** A paging cursor (`cursor`, `before`) that is not one this API returned. */
  invalidCursor: (field: string) =>
    new AppError('INVALID_CURSOR', `${field} is not a cursor this API returned`, 400, {
      fields: [{ field, message: 'not a cursor this API returned' }],
    }),
  unauthorized: () =>
    new AppError('UNAUTHORIZED', 'a valid bearer key is required', 401, {
      headers: { 'www-authenticate': 'Bearer' },
    }),
  forbidden: (message = 'this key may not perform this action') => new AppError('FORBIDDEN', message, 403),
  invalidUrl: () =>
    new AppError('INVALID_URL', 'the URL does not decode: a percent escape is not valid UTF-8', 400),
  notFound: (message = 'not found') => new AppError('NOT_FOUND', message, 404),
  conflict: (message: string) => new AppError('CONFLICT', message, 409),
  payloadTooLarge: (message = 'request body is too large') => new AppError('PAYLOAD_TOO_LARGE', message, 413),
  uriTooLong: () => new AppError('URI_TOO_LONG', 'a path parameter is longer than 100 characters', 414),
  unsupportedMediaType: (message = 'send application/json') =>
    new AppError('UNSUPPORTED_MEDIA_TYPE', message, 415),
  rateLimited: (retryAfterSeconds: number, message = 'too many requests for this key') =>
    new AppError('RATE_LIMITED', message, 429, {
      retriable: true,
      headers: { 'retry-after': String(retryAfterSeconds) },
    }),
  unavailable: (message: string, retryAfterSeconds = 5, cause?: unknown) =>
    new AppError('SERVICE_UNAVAILABLE', message, 503, {
      retriable: true,
      headers: { 'retry-after': String(retryAfterSeconds) },
      cause,
    }),
  internal: () => new AppError('INTERNAL', 'internal error', 500),
} as const;

/** The parts of a zod issue this module reads (zod 4's `$ZodIssue` is assignable to it). */
export interface ZodIssueLike {
  path: ReadonlyArray<PropertyKey>;
  message: string;
  code?: string;
  keys?: readonly string[];
}

/**
 * Turns zod issues into field errors, prefixing each path (e.g. with `events.3`). An object with
 * unknown keys (a strict schema) yields one error per key, named by its own path, so a client sees
 * exactly which field is a typo; a missing field says "is required" rather than zod's
 * "expected string, received undefined".
 */
export function fieldErrorsFromZod(
  issues: ReadonlyArray<ZodIssueLike>,
  prefix: ReadonlyArray<PropertyKey> = [],
): FieldError[] {
  const field = (path: ReadonlyArray<PropertyKey>) => [...prefix, ...path].map(String).join('.');
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys' && issue.keys && issue.keys.length > 0) {
      return issue.keys.map((key) => ({ field: field([...issue.path, key]), message: 'unknown field' }));
    }
    const missing = issue.code === 'invalid_type' && /received undefined$/.test(issue.message);
    return [{ field: field(issue.path), message: missing ? 'is required' : issue.message }];
  });
}
