import { readFileSync } from 'node:fs';
import { type ConsumingService, consumerGroupId } from '@taobi/contracts';
import { DEFAULT_RULE_SET, parseRuleSet, type RuleSet } from '@taobi/rules';
import { z } from 'zod';

/** Thrown at boot when the environment does not parse; names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`invalid configuration: ${problems.map((p) => `${p.variable}: ${p.message}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** A comma-separated list (`a, b,c`): its trimmed, non-empty parts. */
export const commaSeparated = z
  .string()
  .min(1)
  .transform((value) =>
    value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  );

/**
 * The one boolean parser for the environment: `true` / `1` / `on` or `false` / `0` / `off`;
 * anything else is refused at boot, naming the variable. `flag.default(true)` for a default.
 */
export const flag = z
  .enum(['true', 'false', '1', '0', 'on', 'off'])
  .transform((value) => value === 'true' || value === '1' || value === 'on');

/**
 * How a service reaches a managed Kafka (Amazon MSK, Confluent Cloud, Aiven): TLS, optionally with
 * the provider's CA, and SASL PLAIN or SCRAM. Unset, the client speaks plaintext, as to the local
 * broker. Part of every service's configuration (`baseConfigSchema`), read by `kafkaConnection`.
 */
export const kafkaSecurityVariables = {
  KAFKA_SSL: flag.default(false),
  /** A PEM file of the CA that signed the brokers' certificates, where it is not a public one (Aiven). */
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
};

export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/** Variables every service reads. Services `.extend()` this with their own. */
export const baseConfigSchema = z.object({
  TAOBI_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().min(1).default('127.0.0.1'),
  KAFKA_BROKERS: commaSeparated.default(['127.0.0.1:9092']),
  /** TLS and SASL for a managed Kafka (`kafkaConnection`); unset means plaintext. */
  ...kafkaSecurityVariables,
  /** Prepended to every topic name; lets tests and side-by-side stacks share one broker. */
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only')
    .default(''),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgres://postgres@127.0.0.1:5432/taobi'),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  REDIS_KEY_PREFIX: z.string().default('taobi:'),
  /**
   * Longest life of a Redis read-model entry: the bound on how long a read can serve a value older
   * than Postgres when a write to Redis was lost (see read-model.ts).
   */
  READ_MODEL_TTL_MS: z.coerce.number().int().min(100).default(30_000),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(15000),
  /** How long a consumer group waits for a silent (crashed) member before handing its partitions on. */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).max(300_000).default(30_000),
  /**
   * A rule set JSON file (sources, score, tiers, evaluation day) replacing the one shipped in
   * @taobi/rules; every service and the CLI must be given the same one. Read with `loadDataFile`.
   */
  RULE_SET_FILE: z.string().min(1).optional(),
  /**
   * The HTTP limit on every route but the probes: at most HTTP_RATE_LIMIT_MAX requests per client
   * address in each HTTP_RATE_LIMIT_WINDOW_MS (0: no limit). Ingest's POST has its own, per key.
   */
  HTTP_RATE_LIMIT_MAX: z.coerce.number().int().min(0).default(1000),
  HTTP_RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(100).max(3_600_000).default(1000),
  /** Retries of a failing batch (back-off 300 ms doubling to 30 s) before a consumer is dead. */
  KAFKA_CONSUMER_RETRIES: z.coerce.number().int().min(0).max(100).default(10),
});

export type BaseConfig = z.infer<typeof baseConfigSchema>;

/** A consuming service's `KAFKA_GROUP_ID`: unset means its group under KAFKA_TOPIC_PREFIX. */
export const consumerGroupIdSchema = z.string().min(1).optional();

/**
 * The transform a consuming service's config schema ends with: an unset KAFKA_GROUP_ID becomes
 * `consumerGroupId(service, KAFKA_TOPIC_PREFIX)`, the name the supervisor and the CLI derive too.
 */
export function withConsumerGroup(service: ConsumingService) {
  return <C extends { KAFKA_TOPIC_PREFIX: string; KAFKA_GROUP_ID?: string | undefined }>(
    config: C,
  ): C & { KAFKA_GROUP_ID: string } => ({
    ...config,
    KAFKA_GROUP_ID: config.KAFKA_GROUP_ID ?? consumerGroupId(service, config.KAFKA_TOPIC_PREFIX),
  });
}

/**
 * Parses the environment once. Unset and empty variables both mean "use the default", so a
 * blank line in an env file does not turn into an invalid value.
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({
      variable: issue.path.map(String).join('.') || '(environment)',
      message: issue.message,
    })),
  );
}

/**
 * Data a variable may name a file for (a rule set, a benefit catalogue): the file's JSON parsed
 * with `parse`, or `fallback` (the data shipped with the build) when no file is named. Anything
 * wrong with the file (unreadable, not JSON, refused by `parse`) is bad configuration: a
 * ConfigError naming the variable, so the boot is refused (exit 2).
 */
export function loadDataFile<T>(
  variable: string,
  file: string | undefined,
  parse: (raw: unknown) => T,
  fallback: T,
): T {
  if (!file) return fallback;
  try {
    return parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (error) {
    throw new ConfigError([{ variable, message: (error as Error).message }]);
  }
}

/**
 * The rule set every process runs (each service, the CLI): the file `RULE_SET_FILE` names, parsed
 * (a bad one refuses the boot, naming the variable), else the one shipped with the build.
 */
export function loadRuleSet(file: string | undefined): RuleSet {
  return loadDataFile('RULE_SET_FILE', file, parseRuleSet, DEFAULT_RULE_SET);
}
