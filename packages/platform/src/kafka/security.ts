import { readFileSync } from 'node:fs';
import type { SASLOptions } from 'kafkajs';
import type { z } from 'zod';
import { ConfigError, type kafkaSecurityVariables } from '../config';

export interface KafkaConnection {
  brokers: string[];
  ssl?: boolean | { ca: string[] };
  sasl?: SASLOptions;
}

export type SecurityConfig = { KAFKA_BROKERS: string[] } & z.infer<
  z.ZodObject<typeof kafkaSecurityVariables>
>;

/**
 * The brokers and the TLS / SASL options of `createKafka`, from a parsed configuration: how a
 * service reaches a managed Kafka (Amazon MSK, Confluent Cloud, Aiven). docs/scale-out.md says which
 * values each provider wants.
 */
export function kafkaConnection(config: SecurityConfig): KafkaConnection {
  const connection: KafkaConnection = { brokers: config.KAFKA_BROKERS };
  if (config.KAFKA_SSL_CA_FILE) {
    let ca: string;
    try {
      ca = readFileSync(config.KAFKA_SSL_CA_FILE, 'utf8');
    } catch (error) {
      throw new ConfigError([{ variable: 'KAFKA_SSL_CA_FILE', message: (error as Error).message }]);
    }
    connection.ssl = { ca: [ca] };
  } else if (config.KAFKA_SSL) {
    connection.ssl = true;
  }
  const mechanism = config.KAFKA_SASL_MECHANISM;
  if (mechanism) {
    const missing = (['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const).filter((v) => !config[v]);
    if (missing.length > 0) {
      throw new ConfigError(
        missing.map((variable) => ({ variable, message: `required with KAFKA_SASL_MECHANISM=${mechanism}` })),
      );
    }
    connection.sasl = {
      mechanism,
      username: config.KAFKA_SASL_USERNAME as string,
      password: config.KAFKA_SASL_PASSWORD as string,
    } as SASLOptions;
  }
  return connection;
}
