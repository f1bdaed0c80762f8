import { type Clock, StallError, waitForProgress, withStallDeadline } from './stall';

/** A clock that only moves when the code under test sleeps. */
function fakeClock(): Clock & { slept: number } {
  const clock = {
    slept: 0,
    now: () => clock.slept,
    sleep: async (ms: number) => {
      clock.slept += ms;
    },
  };
  return clock;
}

describe('waits with a stall deadline', () => {
  it('when the lag keeps shrinking, then the wait runs past the stall deadline and ends when it is done', async () => {
    const clock = fakeClock();
    let lag = 120;
    const state = await waitForProgress({
      what: 'the groups to catch up',
      stallMs: 5000,
      clock,
      poll: async () => {
        lag = Math.max(0, lag - 1);
        return lag;
      },
      done: (left) => left === 0,
      progress: (left) => left,
      stuck: (left) => `lag ${left}`,
    });
    expect(state).toBe(0);
    expect(clock.slept).toBe(119_000);
  });

  it('when nothing moves, then it fails at the stall deadline saying what is stuck', async () => {
    const clock = fakeClock();
    let polls = 0;
    const wait = waitForProgress({
      what: 'scoring, tier and entitlement to catch up',
      stallMs: 30_000,
      clock,
      poll: async () => {
        polls += 1;
        // Progress for the first 10 polls, then a consumer that is gone.
        return { committed: Math.min(polls, 10), lag: 288_001 };
      },
      done: (s) => s.lag === 0,
      progress: (s) => s.committed,
      stuck: (s) => `scoring (group rehearsal.taobi-scoring) is ${s.lag} records behind`,
    });
    await expect(wait).rejects.toThrow(StallError);
    await expect(wait).rejects.toThrow(
      'no progress for 30 s waiting for scoring, tier and entitlement to catch up: scoring (group rehearsal.taobi-scoring) is 288001 records behind',
    );
    // The last move was at the 10th poll (9 s): it gives up 30 s later, not sooner, not much later.
    expect(clock.slept).toBe(39_000);
  });

  it('when work reporting its own progress stops moving, then it fails; when it finishes, then its result is returned', async () => {
    const clock = fakeClock();
    const never = new Promise<string>(() => undefined);
    await expect(
      withStallDeadline(never, {
        what: 'the ingest APIs to take the events',
        stallMs: 10_000,
        clock,
        progress: () => 42,
        stuck: () => '42 of 100 events accepted; ingest answers 503',
      }),
    ).rejects.toThrow(
      'no progress for 10 s waiting for the ingest APIs to take the events: 42 of 100 events accepted; ingest answers 503',
    );

    await expect(
      withStallDeadline(Promise.resolve('posted'), {
        what: 'posting',
        stallMs: 10_000,
        clock: fakeClock(),
        progress: () => 0,
        stuck: () => 'stuck',
      }),
    ).resolves.toBe('posted');
    await expect(
      withStallDeadline(Promise.reject(new Error('ingest unreachable')), {
        what: 'posting',
        stallMs: 10_000,
        clock: fakeClock(),
        progress: () => 0,
        stuck: () => 'stuck',
      }),
    ).rejects.toThrow('ingest unreachable');
  });
});
