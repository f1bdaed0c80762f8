import type { Source } from '@taobi/contracts';
import {
  DEVELOPMENT_KEYS,
  developmentIngestKey,
  fetchUnlessBusy,
  SERVICE_PORTS,
  type ServiceName,
  serviceUrl,
} from '@taobi/platform';

/**
 * Where the CLI finds each service and which keys it presents: the local stack's defaults (moved by
 * TAOBI_PORT_OFFSET) unless the environment says otherwise (TAOBI_<SERVICE>_URL, TAOBI_<SOURCE>_KEY,
 * TAOBI_READ_KEY, TAOBI_ADMIN_KEY, TAOBI_CHECKOUT_KEY, TAOBI_MERCHANT_KEY).
 */
export interface Endpoints {
  url(service: ServiceName): string;
  /** The ingest API of each source of the rule set whose URL is known (a port above, or TAOBI_INGEST_<SOURCE>_URL). */
  ingest: Record<Source, { url: string; key: string }>;
  readKey: string;
  adminKey: string;
  checkoutKey: string;
  /** A merchant key (its merchant is the one the key is bound to). */
  merchantKey: string;
}

export function endpointsFrom(
  env: Record<string, string | undefined>,
  sources: readonly Source[],
): Endpoints {
  const variable = (service: string) => `TAOBI_${service.toUpperCase().replaceAll('-', '_')}_URL`;
  /** A known service's URL (moved by TAOBI_PORT_OFFSET), or a further source's from its variable. */
  const urlOf = (service: string): string | undefined =>
    service in SERVICE_PORTS ? serviceUrl(service as ServiceName, env) : env[variable(service)];
  const ingest = sources.flatMap((source) => {
    const url = urlOf(`ingest-${source}`);
    const key = env[`TAOBI_${source.toUpperCase().replaceAll('-', '_')}_KEY`] ?? developmentIngestKey(source);
    return url === undefined ? [] : [[source, { url, key }] as const];
  });
  return {
    url: (service) => serviceUrl(service, env),
    ingest: Object.fromEntries(ingest),
    readKey: env.TAOBI_READ_KEY ?? DEVELOPMENT_KEYS.read,
    adminKey: env.TAOBI_ADMIN_KEY ?? DEVELOPMENT_KEYS.admin,
    checkoutKey: env.TAOBI_CHECKOUT_KEY ?? DEVELOPMENT_KEYS.checkout,
    merchantKey: env.TAOBI_MERCHANT_KEY ?? DEVELOPMENT_KEYS.merchant,
  };
}

/** A source's ingest API, or an error saying how to name it. */
export function ingestEndpoint(endpoints: Endpoints, source: Source): { url: string; key: string } {
  const endpoint = endpoints.ingest[source];
  if (!endpoint) {
    throw new Error(
      `no ingest API for the ${source} source: it is not in the rule set, or set TAOBI_INGEST_${source.toUpperCase().replaceAll('-', '_')}_URL`,
    );
  }
  return endpoint;
}

/**
 * Calls a Taobi API and returns its JSON; a non-2xx answer becomes an error quoting the body. A 429
 * (the service's rate limit) is waited out for its Retry-After, and so is a 503 on a GET, as a
 * well-behaved client of a rate-limited API does (the demo reads thousands of members).
 */
export async function callApi<T>(
  url: string,
  options: {
    method?: string;
    key?: string;
    body?: unknown;
    timeoutMs?: number;
    headers?: Record<string, string>;
  } = {},
): Promise<T> {
  const method = options.method ?? 'GET';
  const init = {
    method,
    headers: {
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
    signal: AbortSignal.timeout(options.timeoutMs ?? 120_000),
  };
  const response = await fetchUnlessBusy(url, init, { retryUnavailable: method === 'GET' });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}: ${text.slice(0, 400)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}
