import { Kafka, type KafkaConfig, logLevel, type RetryOptions } from 'kafkajs';
import type { Logger } from '../logger';

export type { Consumer, Kafka, Message, Producer, RecordMetadata } from 'kafkajs';

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  connectionTimeout?: number;
  requestTimeout?: number;
  retry?: RetryOptions;
  /** TLS and SASL (a managed Kafka): `kafkaConnection(config)` gives them with the brokers. */
  ssl?: KafkaConfig['ssl'];
  sasl?: KafkaConfig['sasl'];
  /** How connections are opened (kafkajs's plain or TLS socket by default; tests pass one they can freeze). */
  socketFactory?: KafkaConfig['socketFactory'];
}

/** kafkajs logs go through pino, one child logger per kafkajs namespace. */
function pinoLogCreator(logger: Logger): KafkaConfig['logCreator'] {
  const base = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, logger: _name, ...context } = log;
      const entry = { namespace, ...context };
      // Our producers bound their retries on purpose (a send must fail within its deadline); each
      // failed send replaces the producer, so the sequence numbers this warning is about restart.
      if (message.startsWith('Limiting retries for the idempotent producer')) base.debug(entry, message);
      else if (level === logLevel.ERROR) base.error(entry, message);
      else if (level === logLevel.WARN) base.warn(entry, message);
      else if (level === logLevel.INFO) base.info(entry, message);
      else base.debug(entry, message);
    };
}

/** The options each client was made with, for `kafkaSeededWith`. */
const optionsOf = new WeakMap<Kafka, KafkaOptions>();

export function createKafka(options: KafkaOptions): Kafka {
  const kafka = new Kafka({
    brokers: options.brokers,
    clientId: options.clientId,
    connectionTimeout: options.connectionTimeout ?? 3000,
    requestTimeout: options.requestTimeout ?? 30000,
    retry: options.retry ?? { initialRetryTime: 300, retries: 8 },
    logLevel: logLevel.INFO,
    logCreator: pinoLogCreator(options.logger),
    ...(options.ssl ? { ssl: options.ssl } : {}),
    ...(options.sasl ? { sasl: options.sasl } : {}),
    ...(options.socketFactory ? { socketFactory: options.socketFactory } : {}),
  });
  optionsOf.set(kafka, options);
  return kafka;
}

/**
 * A client configured as `kafka` (TLS, SASL, logger, timeouts) but seeded with `broker` alone
 * (`host:port`), to ask one broker of a cluster something. `kafka` must come from `createKafka`.
 */
export function kafkaSeededWith(kafka: Kafka, broker: string): Kafka {
  const options = optionsOf.get(kafka);
  if (!options) throw new Error('kafkaSeededWith needs a client made by createKafka');
  return createKafka({ ...options, brokers: [broker] });
}
