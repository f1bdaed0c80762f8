import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import {
  baseConfigSchema,
  ConfigError,
  consumerGroupIdSchema,
  loadConfig,
  loadDataFile,
  port,
  withConsumerGroup,
} from './config';

const schema = baseConfigSchema.extend({ PORT: port(8081) });

describe('loadConfig', () => {
  it('when nothing is set, then every default applies', () => {
    const config = loadConfig(schema, {});
    expect(config.PORT).toBe(8081);
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(config.TAOBI_ENV).toBe('development');
    expect(config.KAFKA_TOPIC_PREFIX).toBe('');
  });

  it('when a list and a number are given as strings, then they are parsed', () => {
    const config = loadConfig(schema, { KAFKA_BROKERS: 'a:1, b:2', PORT: '9000' });
    expect(config.KAFKA_BROKERS).toEqual(['a:1', 'b:2']);
    expect(config.PORT).toBe(9000);
  });

  it('when a variable is empty, then it counts as unset', () => {
    expect(loadConfig(schema, { PORT: '' }).PORT).toBe(8081);
  });

  it('when variables are invalid, then the error names each of them', () => {
    let caught: unknown;
    try {
      loadConfig(schema, { PORT: 'eighty', DATABASE_URL: 'mysql://db/x', LOG_LEVEL: 'loud' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const variables = (caught as ConfigError).problems.map((p) => p.variable).sort();
    expect(variables).toEqual(['DATABASE_URL', 'LOG_LEVEL', 'PORT']);
    expect((caught as Error).message).toContain('PORT');
  });

  it('when a service extends the schema, then its own variables are validated too', () => {
    const extended = schema.extend({ BATCH_SIZE: z.coerce.number().int().positive().default(10) });
    expect(() => loadConfig(extended, { BATCH_SIZE: '-1' })).toThrow(/BATCH_SIZE/);
  });

  it('when a consuming service sets no group, then it is its group under the topic prefix; a set one wins', () => {
    const consuming = schema
      .extend({ KAFKA_GROUP_ID: consumerGroupIdSchema })
      .transform(withConsumerGroup('tier'));
    expect(loadConfig(consuming, {}).KAFKA_GROUP_ID).toBe('taobi-tier');
    expect(loadConfig(consuming, { KAFKA_TOPIC_PREFIX: 'rehearsal.' }).KAFKA_GROUP_ID).toBe(
      'rehearsal.taobi-tier',
    );
    expect(
      loadConfig(consuming, { KAFKA_TOPIC_PREFIX: 'rehearsal.', KAFKA_GROUP_ID: 'mine' }).KAFKA_GROUP_ID,
    ).toBe('mine');
  });
});

describe('loadDataFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'taobi-data-file-'));
  const parse = (raw: unknown) => z.strictObject({ day: z.number().int().max(28) }).parse(raw);
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('when no file is named, then the shipped data is used; when one is, then its parsed content', () => {
    expect(loadDataFile('RULE_SET_FILE', undefined, parse, { day: 8 })).toEqual({ day: 8 });
    expect(loadDataFile('RULE_SET_FILE', file('ok.json', '{"day":15}'), parse, { day: 8 })).toEqual({
      day: 15,
    });
  });

  it.each([
    ['missing', join(dir, 'nowhere.json')],
    ['not JSON', file('bad.json', '{day: 15')],
    ['refused by the parser', file('invalid.json', '{"day":31}')],
  ])('when the file is %s, then boot is refused naming the variable', (_what, path) => {
    expect(() => loadDataFile('RULE_SET_FILE', path, parse, { day: 8 })).toThrow(ConfigError);
    expect(() => loadDataFile('RULE_SET_FILE', path, parse, { day: 8 })).toThrow(
      /^invalid configuration: RULE_SET_FILE: /,
    );
  });
});
