import type { Source } from '@taobi/contracts';
import { DEVELOPMENT_KEYS } from '@taobi/platform';

/**
 * Where the CLI finds each service and which keys it presents: the local stack's defaults unless the
 * environment says otherwise (TAOBI_<SERVICE>_URL, TAOBI_<SOURCE>_KEY, TAOBI_READ_KEY, TAOBI_ADMIN_KEY,
 * TAOBI_CHECKOUT_KEY, TAOBI_MERCHANT_KEY).
 */
export const SERVICE_PORTS = {
  'ingest-ecommerce': 8081,
  'ingest-food': 8082,
  'ingest-travel': 8083,
  'ingest-mobility': 8084,
  scoring: 8085,
  tier: 8086,
  entitlement: 8087,
} as const;

export type ServiceName = keyof typeof SERVICE_PORTS;

export interface Endpoints {
  url(service: ServiceName): string;
  ingest: Record<Source, { url: string; key: string }>;
  readKey: string;
  adminKey: string;
  checkoutKey: string;
  /** A merchant key (its merchant is the one the key is bound to). */
  merchantKey: string;
}

export function endpointsFrom(env: Record<string, string | undefined> = process.env): Endpoints {
  const url = (service: ServiceName) =>
    env[`TAOBI_${service.toUpperCase().replaceAll('-', '_')}_URL`] ??
    `http://127.0.0.1:${SERVICE_PORTS[service]}`;
  const ingest = (source: Source) => ({
    url: url(`ingest-${source}` as ServiceName),
    key: env[`TAOBI_${source.toUpperCase()}_KEY`] ?? DEVELOPMENT_KEYS[source],
  });
  return {
    url,
    ingest: {
      ecommerce: ingest('ecommerce'),
      food: ingest('food'),
      travel: ingest('travel'),
      mobility: ingest('mobility'),
    },
    readKey: env.TAOBI_READ_KEY ?? DEVELOPMENT_KEYS.read,
    adminKey: env.TAOBI_ADMIN_KEY ?? DEVELOPMENT_KEYS.admin,
    checkoutKey: env.TAOBI_CHECKOUT_KEY ?? DEVELOPMENT_KEYS.checkout,
    merchantKey: env.TAOBI_MERCHANT_KEY ?? DEVELOPMENT_KEYS.merchant,
  };
}

/** Calls a Taobi API and returns its JSON; a non-2xx answer becomes an error quoting the body. */
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
  const response = await fetch(url, {
    method: options.method ?? 'GET',
    headers: {
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
    signal: AbortSignal.timeout(options.timeoutMs ?? 120_000),
  });
  const text = await response.text();
  if (!response.ok)
    throw new Error(`${options.method ?? 'GET'} ${url} answered ${response.status}: ${text.slice(0, 400)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}
