import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseConfigSchema, ConfigError, loadConfig } from '../config';
import { kafkaConnection } from './security';

const connectionFrom = (env: Record<string, string>) => kafkaConnection(loadConfig(baseConfigSchema, env));

describe('kafkaConnection (a managed Kafka: TLS and SASL from the environment)', () => {
  it('when nothing is set, then the client speaks plaintext to the brokers listed', () => {
    expect(connectionFrom({ KAFKA_BROKERS: 'a:9092,b:9092' })).toEqual({ brokers: ['a:9092', 'b:9092'] });
  });

  it('when SCRAM over TLS is configured (MSK, Confluent Cloud), then ssl and sasl are passed on', () => {
    expect(
      connectionFrom({
        KAFKA_BROKERS: 'b-1.msk.example:9096',
        KAFKA_SSL: 'true',
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'taobi',
        KAFKA_SASL_PASSWORD: 'secret',
      }),
    ).toEqual({
      brokers: ['b-1.msk.example:9096'],
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'taobi', password: 'secret' },
    });
  });

  it('when a CA file is named (Aiven), then TLS trusts that CA', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'taobi-ca-')), 'ca.pem');
    writeFileSync(file, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(connectionFrom({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: file }).ssl).toEqual({
      ca: ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'],
    });
  });

  it('when a SASL mechanism lacks its credentials, a CA file is missing or a value is unknown, then the boot is refused naming the variable', () => {
    const variables = (env: Record<string, string>) => {
      try {
        connectionFrom(env);
      } catch (error) {
        if (error instanceof ConfigError) return error.problems.map((p) => p.variable);
        throw error;
      }
      return [];
    };
    expect(variables({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' })).toEqual([
      'KAFKA_SASL_PASSWORD',
    ]);
    expect(variables({ KAFKA_SSL_CA_FILE: '/nonexistent/ca.pem' })).toEqual(['KAFKA_SSL_CA_FILE']);
    expect(variables({ KAFKA_SASL_MECHANISM: 'gssapi' })).toEqual(['KAFKA_SASL_MECHANISM']);
    expect(variables({ KAFKA_SSL: 'yes' })).toEqual(['KAFKA_SSL']);
  });
});
