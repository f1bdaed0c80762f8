import type { Tier } from '@taobi/contracts';
import { metricValue, uniqueId, waitFor } from '@taobi/tests';
import { ADMIN, firstAssignment, Harness, LOTTERY, TestClock, tierChange } from './harness';

const issue = (h: Harness, body: Record<string, unknown>) =>
  h.inject({ method: 'POST', url: '/v1/admin/periodic-grants', headers: ADMIN, payload: body });

async function weekly(h: Harness, period: string) {
  const { rows } = await h.pool.query<{ member_id: string; benefit_id: string; n: number }>(
    `SELECT member_id, benefit_id, count(*)::int AS n FROM entitlement.grants
     WHERE period = $1 GROUP BY member_id, benefit_id ORDER BY member_id, benefit_id`,
    [period],
  );
  return rows;
}

describe('periodic benefits (real Kafka and Postgres)', () => {
  it('when the admin issues a week in bounded runs, then each run resumes from the cursor, every qualifying member gets each weekly coupon once, and last week’s are expired', async () => {
    const h = await Harness.start({ env: { PERIODIC_PAGE_SIZE: '2' } });
    try {
      const tiers: Tier[] = ['SILVER', 'GOLD', 'PLATINUM', 'BLACK_DIAMOND', 'SILVER'];
      const members = tiers.map(() => uniqueId('m')).sort();
      await h.produce(
        members.map((m, i) =>
          tierChange(m, 'BRONZE', tiers[i] as Tier, 1, { occurredAt: '2026-11-18T03:00:00.000Z' }),
        ),
      );
      await h.waitUntilConsumed();
      // Entering a tier granted this week's (W47) coupons: 5 flash-sale, 3 ride-hailing (Gold and up).
      expect((await weekly(h, '2026-W47')).reduce((sum, r) => sum + r.n, 0)).toBe(8);

      h.clock.set('2026-11-23T02:00:00Z'); // Monday of W48, Shanghai
      const first = await issue(h, { period: '2026-W48', maxPages: 1 });
      expect(first.statusCode).toBe(200);
      expect(first.json().runs).toEqual([
        {
          period: '2026-W48',
          cadence: 'weekly',
          resumedAfter: null,
          membersScanned: 2,
          granted: 3,
          pages: 1,
          finished: false,
        },
      ]);
      // Last week's coupons (8) and the day of entry's red packets (5) have expired.
      expect(first.json().expired).toBe(13);
      const second = (await issue(h, { period: '2026-W48', maxPages: 1 })).json().runs[0];
      expect(second).toMatchObject({ resumedAfter: members[1], membersScanned: 2, finished: false });
      const third = (await issue(h, { period: '2026-W48' })).json().runs[0];
      expect(third).toMatchObject({ resumedAfter: members[3], membersScanned: 1, finished: true });

      const issued = await weekly(h, '2026-W48');
      expect(issued.every((r) => r.n === 1)).toBe(true);
      expect(
        issued.filter((r) => r.benefit_id === 'flash-sale-weekly-coupon').map((r) => r.member_id),
      ).toEqual(members);
      expect(issued.filter((r) => r.benefit_id === 'ride-hailing-weekly-coupon')).toHaveLength(3);

      // Issuing the finished week again scans everyone and grants nothing.
      const again = (await issue(h, { period: '2026-W48' })).json().runs[0];
      expect(again).toMatchObject({ membersScanned: 5, granted: 0, finished: true });
      // asOf: the day, the week and the month holding it; November's coupons were granted on entry.
      const asOf = (await issue(h, { asOf: '2026-11-23T10:00:00+08:00' })).json().runs;
      expect(asOf.map((r: { period: string; granted: number }) => [r.period, r.granted])).toEqual([
        ['2026-11-23', 5],
        ['2026-W48', 0],
        ['2026-11', 0],
      ]);

      const published = await h.reader.waitForCount(
        8,
        (r) => r.value.period === '2026-W48' && r.value.action === 'granted',
      );
      expect(new Set(published.map((r) => r.value.eventId)).size).toBe(8);
      const expired = await h.reader.waitForCount(
        8,
        (r) => r.value.period === '2026-W47' && r.value.action === 'expired',
      );
      expect(expired.every((r) => r.value.benefitKind === 'periodic')).toBe(true);
      const { entitlements } = await h.entitlements(members[0] as string);
      expect(entitlements.find((e) => e.period === '2026-W47')?.status).toBe('expired');
    } finally {
      await h.close();
    }
  });

  it('when Bronze-only members are known only from their first assignment, then each week’s coupon reaches each of them exactly once, whether the job runs twice or is interrupted and resumed on another instance', async () => {
    const h = await Harness.start({ env: { PERIODIC_PAGE_SIZE: '2' } });
    try {
      const members = Array.from({ length: 5 }, () => uniqueId('m')).sort();
      await h.produce(members.map((m) => firstAssignment(m, 'BRONZE')));
      await h.waitUntilConsumed();
      // The first assignment grants what Bronze holds now: this week's coupon and today's red packet
      // (and, for some, a won lottery voucher: not this test's).
      for (const m of members) {
        const held = (await h.entitlements(m)).entitlements
          .filter((e) => e.benefitId !== LOTTERY)
          .map((e) => `${e.benefitId}@${e.period}`)
          .sort();
        expect(held).toEqual(['daily-check-in-red-packet@2026-11-18', 'flash-sale-weekly-coupon@2026-W47']);
      }

      for (const [week, monday] of [
        ['2026-W48', '2026-11-23T02:00:00Z'],
        ['2026-W49', '2026-11-30T02:00:00Z'],
      ] as const) {
        h.clock.set(monday);
        // Interrupted after one page, then resumed by another instance, then run again in full.
        const interrupted = (await issue(h, { period: week, maxPages: 1 })).json().runs[0];
        expect(interrupted).toMatchObject({
          resumedAfter: null,
          membersScanned: 2,
          granted: 2,
          finished: false,
        });
        await h.stopService();
        await h.startService();
        const resumed = (await issue(h, { period: week })).json().runs[0];
        expect(resumed).toMatchObject({
          resumedAfter: members[1],
          membersScanned: 3,
          granted: 3,
          finished: true,
        });
        const again = (await issue(h, { period: week })).json().runs[0];
        expect(again).toMatchObject({ resumedAfter: null, membersScanned: 5, granted: 0, finished: true });

        const issued = await weekly(h, week);
        expect(issued).toEqual(
          members.map((m) => ({ member_id: m, benefit_id: 'flash-sale-weekly-coupon', n: 1 })),
        );
        await h.waitUntilPublished();
        const published = h.reader.matching((r) => r.value.period === week && r.value.action === 'granted');
        expect(published.map((r) => r.value.memberId).sort()).toEqual(members);
      }
      const metrics = (await h.inject({ method: 'GET', url: '/metrics' })).body;
      expect(
        metricValue(metrics, 'taobi_entitlement_periodic_members_scanned_total', { cadence: 'weekly' }),
      ).toBe(8);
      expect(
        metricValue(metrics, 'taobi_entitlement_periodic_last_success_timestamp_seconds', {
          cadence: 'weekly',
        }),
      ).toBeGreaterThan(0);
    } finally {
      await h.close();
    }
  });

  it('when a day is issued, then every member gets that day’s red packet once', async () => {
    const h = await Harness.start();
    try {
      const members = [uniqueId('m'), uniqueId('m')];
      await h.produce([
        firstAssignment(members[0] as string, 'BRONZE'),
        firstAssignment(members[1] as string, 'GOLD'),
      ]);
      await h.waitUntilConsumed();
      h.clock.set('2026-11-19T00:30:00Z');
      for (let run = 0; run < 2; run += 1) {
        const runs = (await issue(h, { period: '2026-11-19' })).json().runs;
        expect(runs).toEqual([
          expect.objectContaining({ period: '2026-11-19', cadence: 'daily', finished: true }),
        ]);
      }
      expect(await weekly(h, '2026-11-19')).toEqual(
        members.sort().map((m) => ({ member_id: m, benefit_id: 'daily-check-in-red-packet', n: 1 })),
      );
      const asOf = (await issue(h, { asOf: '2026-11-19T10:00:00+08:00' })).json().runs;
      expect(asOf.map((r: { period: string }) => r.period)).toEqual(['2026-11-19', '2026-W47', '2026-11']);
    } finally {
      await h.close();
    }
  });

  describe('the admin call', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await Harness.start();
      h.clock.set('2026-11-23T02:00:00Z');
    });
    afterAll(async () => {
      await h.close();
    });

    it.each([
      [{ period: '2026-W46' }, 422, 'PERIOD_ENDED'],
      [{ period: '2026-W99' }, 400, 'VALIDATION_FAILED'],
      [{ period: '2026-11', asOf: '2026-11-18T00:00:00Z' }, 400, 'VALIDATION_FAILED'],
      [{ pages: 1 }, 400, 'VALIDATION_FAILED'],
    ])('when it is %p, then it answers %i %s', async (body, status, code) => {
      const response = await issue(h, body);
      expect(response.statusCode).toBe(status);
      expect(response.json().error.code).toBe(code);
    });

    it('when it bears a read key, then it is refused', async () => {
      const response = await h.inject({
        method: 'POST',
        url: '/v1/admin/periodic-grants',
        headers: { authorization: 'Bearer dev-read-key' },
        payload: {},
      });
      expect(response.statusCode).toBe(403);
    });
  });

  it('when Monday 00:00 Asia/Shanghai passes, then the schedule issues the new week to every qualifying member', async () => {
    // Stopped at Sunday 23:59:52 in Shanghai (week 2026-W48) while the service starts and takes the
    // member in, however long that takes on a loaded machine; then it runs into Monday.
    const clock = new TestClock(new Date('2026-11-29T15:59:52Z'));
    const h = await Harness.start({ clock, env: { PERIODIC_SCHEDULE_ENABLED: 'true' } });
    try {
      const m = uniqueId('m');
      await h.produce([tierChange(m, 'BRONZE', 'GOLD', 1, { occurredAt: clock.now().toISOString() })]);
      await h.waitUntilConsumed();
      const before = (await h.entitlements(m)).entitlements.filter((e) => e.kind === 'periodic');
      // Precondition: the member arrived before midnight, so W49 can only come from the schedule.
      expect(before.filter((e) => e.period === '2026-W48')).toHaveLength(2);
      expect(before.filter((e) => e.period === '2026-W49')).toHaveLength(0);

      clock.runFrom('2026-11-29T15:59:58Z');

      const issued = await waitFor(
        async () => {
          const rows = await h.pool.query<{ benefit_id: string; cause: string }>(
            "SELECT benefit_id, cause FROM entitlement.grants WHERE member_id = $1 AND period = '2026-W49' ORDER BY benefit_id",
            [m],
          );
          return rows.rows.length === 2 ? rows.rows : undefined;
        },
        { timeoutMs: 20_000, description: 'the scheduled weekly issue' },
      );
      expect(issued).toEqual([
        { benefit_id: 'flash-sale-weekly-coupon', cause: 'periodic-issue' },
        { benefit_id: 'ride-hailing-weekly-coupon', cause: 'periodic-issue' },
      ]);
    } finally {
      await h.close();
    }
  });
});
