import type { Service } from '@taobi/platform';
import fc from 'fast-check';

/** A read route to fuzz: its path (`:id`, `:asOf` are parameters), headers, and query parameters. */
export interface FuzzedRoute {
  path: string;
  headers: Record<string, string>;
  query?: readonly QueryParameter[];
}

export type QueryParameter = (typeof QUERY_PARAMETERS)[number];

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Percent-encodes any string (a lone surrogate becomes U+FFFD, as on the wire). */
const encode = (value: string) => encodeURIComponent(Buffer.from(value).toString('utf8'));

/** The query parameters the read APIs take. */
const QUERY_PARAMETERS = [
  'limit',
  'cursor',
  'before',
  'status',
  'asOf',
  'after',
  'category',
  'merchantId',
] as const;

/**
 * The arbitraries, built on first use: fast-check's binary and grapheme string units build their
 * code-point tables when made (about 1.2 s of CPU and 90 MB), which every test file importing the
 * kit paid at load, fuzzing or not.
 */
function build() {
  /** Escapes a URL may carry that do not decode to UTF-8, or do not decode at all. */
  const rawEscape = fc.constantFrom('%ff', '%00', '%', '%zz', '%c3%28', 'a%2Fb');

  /** Instants anywhere JavaScript can hold, printed the ways a forger might: years 0, 275760, ... */
  const anyInstant = fc.oneof(
    fc
      .date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true })
      .chain((date) => fc.constantFrom(date.toISOString(), String(date.getTime()), date.toUTCString())),
    fc.nat({ max: 99_999 }).map(String),
    fc.constantFrom('0000-12-31T10:00:00.000Z', '+275760-09-13T00:00:00.000Z', '2026-02-30', '1'),
  );

  /** Strings a parser may choke on: control characters (NUL), other scripts, lone surrogates, long runs. */
  const awkwardString = fc.oneof(
    fc.string({ unit: 'binary' }),
    fc.string({ unit: 'grapheme' }),
    fc.constantFrom('\u0000', 'o-\u0000', '\ud800', 'ﬀ', ' ', '', '..', '%', '%ff', 'null', '[]', '{}'),
    fc.nat({ max: 5000 }).map((n) => 'x'.repeat(n)),
  );

  /** Numbers as text: negative, huge, fractional, exponent, not a number at all. */
  const numberText = fc.oneof(
    fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
    fc.double().map(String),
    fc.constantFrom('0', '-1', '1e400', '0x10', 'NaN', 'Infinity', '9007199254740993', '9223372036854775808'),
  );

  /** Cursor-shaped values: base64url of tuples of forged dates, sources and ids, or of any JSON. */
  const cursorText = fc.oneof(
    {
      arbitrary: fc
        .tuple(anyInstant, fc.constantFrom('ecommerce', 'food', 'travel', 'mobility'), awkwardString)
        .map(base64url),
      weight: 4,
    },
    fc.tuple(fc.oneof(anyInstant, awkwardString), awkwardString, awkwardString).map(base64url),
    fc.jsonValue().map(base64url),
    fc.string(),
  );

  const anyValue = fc.oneof(
    fc.oneof(awkwardString, numberText, anyInstant, cursorText).map(encode),
    rawEscape,
  );
  const validId = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/);

  /** A path segment: a valid id, anything at all (percent-encoded), or raw bytes that are not UTF-8. */
  const pathSegment = fc.oneof(
    { arbitrary: validId, weight: 3 },
    { arbitrary: anyInstant.map(encode), weight: 2 },
    fc.oneof(awkwardString, numberText).map(encode),
    rawEscape,
  );

  /** Values of the right shape for each query parameter the read APIs take. */
  const fitting: Record<QueryParameter, fc.Arbitrary<string>> = {
    limit: fc.integer({ min: 1, max: 50 }).map(String),
    cursor: cursorText.map(encode),
    before: numberText.map(encode),
    status: fc.constantFrom('granted', 'used', 'revoked', 'expired'),
    asOf: anyInstant.map(encode),
    after: numberText.map(encode),
    category: fc.constantFrom('meal', 'physical', 'hotel', 'screening', 'Meal', 'meal-'),
    merchantId: fc.oneof(fc.constantFrom('dev-merchant', 'dev-merchant-2'), validId.map(encode)),
  };
  return { anyValue, pathSegment, fitting };
}

let built: ReturnType<typeof build> | undefined;
const arbitraries = () => {
  built ??= build();
  return built;
};

/**
 * A query string: the route's parameters, each present or not, with values mostly of the right
 * shape but forged (so the parsers behind them are reached, not only the check for unknown keys),
 * sometimes anything at all, and sometimes an unknown or repeated parameter.
 */
function queryFor(names: readonly QueryParameter[]): fc.Arbitrary<string> {
  const { anyValue, fitting } = arbitraries();
  const known = Object.fromEntries(
    names.map((name) => [name, fc.oneof({ arbitrary: fitting[name], weight: 3 }, anyValue)]),
  );
  const extra = fc.tuple(fc.oneof(fc.string().map(encode), fc.constantFrom(...names, 'limit')), anyValue);
  return fc
    .tuple(fc.record(known, { requiredKeys: [] }), fc.option(extra, { freq: 4 }))
    .map(([present, added]) =>
      [...Object.entries(present), ...(added ? [added] : [])]
        .map(([key, value]) => `${key}=${value}`)
        .join('&'),
    );
}

/**
 * Asks each route many times with forged path parameters and query strings, through `inject`
 * against the real stores behind the app, and fails on the first answer of 500 or above (fast-check
 * shrinks it to a minimal URL). Every answer must be a 2xx or a 4xx.
 */
export async function fuzzReadRoutes(
  app: Service['app'],
  routes: readonly FuzzedRoute[],
  numRuns = 150,
): Promise<void> {
  const { pathSegment } = arbitraries();
  for (const route of routes) {
    await fc.assert(
      fc.asyncProperty(
        fc.array(pathSegment, { minLength: 2, maxLength: 2 }),
        queryFor(route.query ?? []),
        async (segments, search) => {
          let n = 0;
          const path = route.path.replace(/:[A-Za-z]+/g, () => segments[n++] as string);
          const url = search ? `${path}?${search}` : path;
          const response = await app.inject({ method: 'GET', url, headers: route.headers });
          if (response.statusCode >= 500 || response.statusCode < 200) {
            throw new Error(`GET ${url} answered ${response.statusCode}: ${response.body.slice(0, 300)}`);
          }
        },
      ),
      { numRuns },
    );
  }
}
