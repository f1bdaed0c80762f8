import {
  accessKeysConfigSchema,
  baseConfigSchema,
  DEVELOPMENT_KEYS,
  flag,
  port,
  SERVICE_NAMES,
  type ServiceName,
  serviceUrl,
  serviceUrlVariable,
} from '@taobi/platform';
import { z } from 'zod';

/** The services the console reads (everything but itself). */
export const UPSTREAM_SERVICES = SERVICE_NAMES.filter(
  (name): name is Exclude<ServiceName, 'console'> => name !== 'console',
);
export type UpstreamService = (typeof UPSTREAM_SERVICES)[number];

const upstreamUrlVariables = Object.fromEntries(
  UPSTREAM_SERVICES.map((service) => [serviceUrlVariable(service), z.url().optional()]),
);

/**
 * The console's environment, parsed once in main.ts. Operators sign in with one of the programme's
 * read or admin keys (`READ_API_KEYS`, `ADMIN_API_KEYS`, as every service takes them); the console
 * reads the services with its own read key and performs admin jobs with the operator's admin key.
 */
export const consoleConfigSchema = baseConfigSchema.extend(accessKeysConfigSchema.shape).extend({
  PORT: port(8088),
  /** Moves the default service URLs, as `npm start` moves a second stack's ports. */
  TAOBI_PORT_OFFSET: z.coerce.number().int().min(0).max(60_000).default(0),
  /** The read key the console presents to the services' read APIs. */
  CONSOLE_READ_KEY: z.string().min(8).default(DEVELOPMENT_KEYS.read),
  /** Signs the session cookie; at least 32 characters. Default: random at each start. */
  SESSION_SECRET: z.string().min(32).optional(),
  SESSION_TTL_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .default(480),
  /**
   * Marks the session cookie `Secure` (sent over HTTPS only; the console then sets it only on a
   * request it sees as HTTPS). Default: on in production, off on the local stack's plain HTTP.
   */
  COOKIE_SECURE: flag.optional(),
  /** Behind a TLS-terminating proxy: believe its X-Forwarded-Proto / -For headers. */
  TRUST_PROXY: flag.default(false),
  /** How often the console scrapes every service's /metrics for the programme view's rates. */
  METRICS_SAMPLE_INTERVAL_MS: z.coerce.number().int().min(200).max(600_000).default(15_000),
  /** The longest wait for one service's answer before its panel says it did not answer. */
  UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5000),
  ...upstreamUrlVariables,
});

export type ConsoleConfig = z.infer<typeof consoleConfigSchema>;

/** Each upstream service's base URL: `TAOBI_<SERVICE>_URL`, else the local port (+ offset). */
export function upstreamUrls(config: ConsoleConfig): Record<UpstreamService, string> {
  const env = config as unknown as Record<string, string | number | undefined>;
  return Object.fromEntries(
    UPSTREAM_SERVICES.map((service) => [service, serviceUrl(service, env)]),
  ) as Record<UpstreamService, string>;
}
