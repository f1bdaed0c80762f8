import { ConfigError, loadConfig } from '@taobi/platform';
import { scoringConfigSchema } from './config';

describe('scoring config', () => {
  it('when OUTBOX_POLL_INTERVAL_MS is set, then the relay polls at it (as tier and entitlement do), within 10-60000', () => {
    expect(loadConfig(scoringConfigSchema, {}).OUTBOX_POLL_INTERVAL_MS).toBe(250);
    expect(loadConfig(scoringConfigSchema, { OUTBOX_POLL_INTERVAL_MS: '40' }).OUTBOX_POLL_INTERVAL_MS).toBe(
      40,
    );
    expect(() => loadConfig(scoringConfigSchema, { OUTBOX_POLL_INTERVAL_MS: '5' })).toThrow(ConfigError);
    expect(() => loadConfig(scoringConfigSchema, { OUTBOX_POLL_INTERVAL_MS: '5' })).toThrow(
      /OUTBOX_POLL_INTERVAL_MS/,
    );
  });
});
