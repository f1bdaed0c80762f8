import { createLogger } from './logger';
import { scheduleRecurring } from './schedule';

describe('scheduleRecurring', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('when the due time passes, then the job runs once with its due time, and a failure is retried', async () => {
    let now = new Date('2026-11-30T00:00:00Z');
    const runs: string[] = [];
    let fail = true;
    const schedule = scheduleRecurring({
      name: 'test',
      logger: createLogger({ name: 'test', level: 'silent' }),
      now: () => now,
      nextRunAt: (after) => new Date(Date.UTC(after.getUTCFullYear(), after.getUTCMonth() + 1, 1)),
      retryDelayMs: 1000,
      run: async (dueAt) => {
        runs.push(dueAt.toISOString());
        if (fail) {
          fail = false;
          throw new Error('database down');
        }
      },
    });
    expect(schedule.nextRunAt.toISOString()).toBe('2026-12-01T00:00:00.000Z');

    now = new Date('2026-12-01T00:00:00Z');
    await jest.advanceTimersByTimeAsync(24 * 3600_000);
    expect(runs).toEqual(['2026-12-01T00:00:00.000Z']);
    await jest.advanceTimersByTimeAsync(1000);
    expect(runs).toEqual(['2026-12-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z']);
    expect(schedule.nextRunAt.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    schedule.stop();
  });
});
