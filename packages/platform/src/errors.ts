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

/**
 * One error a route documents answering: its status, its stable code, and when it is answered
 * (`when` is the sentence under the code in the route's OpenAPI entry).
 */
export interface ErrorDoc {
  readonly status: number;
  readonly code: string;
  readonly when: string;
}

/** What an error kind's factory gives besides its code and status: the message, and any options. */
type ErrorParts = AppErrorOptions & { message: string };

/**
 * A client-visible error declared once: a factory of its instances (`Errors.notFound('no offer x')`)
 * that carries its `code` and `status`, and `doc(when)`, how a route lists it among the errors it
 * answers (`Errors.notFound.doc('no such offer')`), so the code and status are written once.
 */
export type ErrorKind<A extends unknown[]> = ((...args: A) => AppError) & {
  readonly code: string;
  readonly status: number;
  doc(when: string): ErrorDoc;
};

export function errorKind<A extends unknown[]>(
  code: string,
  status: number,
  parts: (...args: A) => ErrorParts,
): ErrorKind<A> {
  const create = (...args: A) => {
    const { message, ...options } = parts(...args);
    return new AppError(code, message, status, options);
  };
  return Object.assign(create, { code, status, doc: (when: string) => ({ status, code, when }) });
}

/** The catalogue of client-visible errors; services declare their own codes with `errorKind`. */
export const Errors = {
  validation: errorKind(
    'VALIDATION_FAILED',
    400,
    (fields: FieldError[], message: string = 'request validation failed') => ({
      message,
      fields,
    }),
  ),
  invalidJson: errorKind('INVALID_JSON', 400, (message: string) => ({ message })),
  /** A paging cursor (`cursor`, `before`) that is not one this API returned. */
  invalidCursor: errorKind('INVALID_CURSOR', 400, (field: string) => ({
    message: `${field} is not a cursor this API returned`,
    fields: [{ field, message: 'not a cursor this API returned' }],
  })),
  unauthorized: errorKind('UNAUTHORIZED', 401, () => ({
    message: 'a valid bearer key is required',
    headers: { 'www-authenticate': 'Bearer' },
  })),
  forbidden: errorKind('FORBIDDEN', 403, (message: string = 'this key may not perform this action') => ({
    message,
  })),
  invalidUrl: errorKind('INVALID_URL', 400, () => ({
    message: 'the URL does not decode: a percent escape is not valid UTF-8',
  })),
  notFound: errorKind('NOT_FOUND', 404, (message: string = 'not found') => ({ message })),
  conflict: errorKind('CONFLICT', 409, (message: string) => ({ message })),
  payloadTooLarge: errorKind('PAYLOAD_TOO_LARGE', 413, (message: string = 'request body is too large') => ({
    message,
  })),
  uriTooLong: errorKind('URI_TOO_LONG', 414, () => ({
    message: 'a path parameter is longer than 100 characters',
  })),
  unsupportedMediaType: errorKind(
    'UNSUPPORTED_MEDIA_TYPE',
    415,
    (message: string = 'send application/json') => ({
      message,
    }),
  ),
  rateLimited: errorKind(
    'RATE_LIMITED',
    429,
    (retryAfterSeconds: number, message: string = 'too many requests for this key') => ({
      message,
      retriable: true,
      headers: { 'retry-after': String(retryAfterSeconds) },
    }),
  ),
  unavailable: errorKind(
    'SERVICE_UNAVAILABLE',
    503,
    (message: string, retryAfterSeconds: number = 5, cause?: unknown) => ({
      message,
      retriable: true,
      headers: { 'retry-after': String(retryAfterSeconds) },
      cause,
    }),
  ),
  internal: errorKind('INTERNAL', 500, () => ({ message: 'internal error' })),
} as const;

/** A route's 400 VALIDATION_FAILED naming `field`: `badField('asOf', 'is not ISO-8601')`. */
export function badField(field: string, problem: string): ErrorDoc {
  return Errors.validation.doc(`\`${field}\` ${problem}`);
}

/** A route's 400 VALIDATION_FAILED naming each bad field (of `what`). */
export function badFields(what = 'the request'): ErrorDoc {
  return Errors.validation.doc(`each bad field of ${what}, named`);
}

/** A route's 400 INVALID_CURSOR naming `field`. */
export function badCursor(field: string): ErrorDoc {
  return Errors.invalidCursor.doc(`\`${field}\` is not a cursor this API returned`);
}

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
