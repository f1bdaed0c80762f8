/**
 * Replay from the log (issue "Time" item 4): `pnpm taobi replay --member <id>` (and `--all`), run
 * as the CLI process against scoring, tier and entitlement in this process, reads the member's
 * records from the consumption topic and compares with what the services answer. It says
 * `identical` on a normal history, and names the difference once a row is tampered with in this
 * test's own database.
 */
import { ServiceProcess, TestClock, testEndpoints, uniqueId } from '../support';
import { order, Programme, refund } from './programme-kit';

const JAN_20 = '2027-01-20T04:00:00.000Z';
const JAN_21 = '2027-01-21T04:00:00.000Z';
const JAN_25 = '2027-01-25T04:00:00.000Z';
const FEB_8 = '2027-02-07T16:00:00.000Z';
const MAR_8 = '2027-03-07T16:00:00.000Z';
const MAR_10 = '2027-03-10T04:00:00.000Z';

describe('pnpm taobi replay: a member, or every member, from the log against what the services store', () => {
  const clock = new TestClock(JAN_20);
  const [member, other, refunder] = [uniqueId('m'), uniqueId('m'), uniqueId('m')];
  let programme: Programme;

  beforeAll(async () => {
    programme = await Programme.start(clock);
    // Silver in January, Gold a few days later, Silver again when March 2026 expires in March 2027.
    // The refunder is placed in Silver, then a refund of that order takes it back (a clawback).
    const bought = order(refunder, { amount: 400_000, occurredAt: '2027-01-10T12:00:00+08:00' });
    clock.set(JAN_21);
    await programme.produce([
      order(member, { amount: 400_000, occurredAt: '2026-03-15T12:00:00+08:00' }),
      order(other, { amount: 60_000, occurredAt: '2027-01-02T12:00:00+08:00' }),
      bought,
    ]);
    await programme.settle();
    clock.set(JAN_25);
    await programme.produce([
      ...[1, 2, 3].map(() => order(member, { amount: 400_000, occurredAt: '2026-04-15T12:00:00+08:00' })),
      refund(bought, '2027-01-24T12:00:00+08:00'),
    ]);
    await programme.settle();
    const clawback = await programme.read('tier', `/v1/members/${refunder}/tier/history`);
    expect(clawback.decisions.map((d: { reason: string }) => d.reason)).toEqual([
      'refund-clawback',
      'first-score',
    ]);
    for (const at of [FEB_8, MAR_8]) {
      clock.set(at);
      await programme.evaluate();
    }
    clock.set(MAR_10);
    expect(await programme.read('tier', `/v1/members/${member}/tier`)).toMatchObject({ tier: 'SILVER' });
  }, 180_000);

  afterAll(async () => {
    await programme?.stop();
  });

  async function replay(...args: string[]) {
    const cli = ServiceProcess.start(
      'packages/cli/src/main.ts',
      {
        ...programme.urlEnv,
        KAFKA_BROKERS: testEndpoints().kafkaBrokers.join(','),
        KAFKA_TOPIC_PREFIX: programme.prefix,
      },
      ['replay', ...args],
    );
    const { code } = await cli.exited;
    return { code, output: cli.output };
  }

  it('when a member has a normal history, then replay reads their partition and says identical, and --all says so for everyone', async () => {
    const one = await replay('--member', member);
    expect(one.output).toMatch(/reading partition \d of .*taobi\.consumption\.v1 \(murmur2 of /);
    expect(one.output).toMatch(/^identical$/m);
    expect(one.output).toMatch(/4 records, 3 score versions and 3 tier decisions compared/);
    expect(one.code).toBe(0);

    const all = await replay('--all');
    expect(all.output).toMatch(/replaying \[█+\] 3\/3 members, 0 with differences/);
    expect(all.output).toMatch(/^identical: 3 members replayed from 7 records$/m);
    expect(all.code).toBe(0);
  });

  it('when a tier decision, a score version and a benefit are tampered with in Postgres, then replay names each difference and exits 1', async () => {
    await programme.pool.query(
      `UPDATE tier.decisions SET to_tier = 'BRONZE' WHERE member_id = $1 AND direction = 'down'`,
      [member],
    );
    await programme.pool.query(
      'UPDATE scoring.score_versions SET score = score + 7 WHERE member_id = $1 AND version = 2',
      [member],
    );
    await programme.pool.query(
      `UPDATE entitlement.grants SET status = 'revoked' WHERE member_id = $1 AND benefit_id = 'free-return-shipping'`,
      [member],
    );
    const tampered = await replay('--member', member);
    expect(tampered.output).not.toMatch(/^identical$/m);
    expect(tampered.output).toMatch(
      /score version 2 \(consumption, .*\): scoring stores 711 \(base 300, ecommerce 404\), the log gives 704 \(base 300, ecommerce 404\)/,
    );
    expect(tampered.output).toMatch(
      /tier decision 3 \(GOLD -> BRONZE \(monthly-evaluation, score 603 v3 at the evaluation of 2027-03-07T16:00:00.000Z\)\): to stored "BRONZE", replayed "SILVER"/,
    );
    expect(tampered.output).toMatch(/entitlement: status benefit free-return-shipping of SILVER is not held/);
    expect(tampered.code).toBe(1);

    const all = await replay('--all');
    expect(all.output).toMatch(new RegExp(`^${member}: score version 2`, 'm'));
    expect(all.output).toMatch(/^1 of 3 members differ \(3 differences\); 2 identical$/m);
    expect(all.code).toBe(1);
  });

  it('when replay is given neither --member nor --all, then it says how to use it and that the rebuild is now taobi rebuild', async () => {
    const bare = await replay();
    expect(bare.code).toBe(2);
    expect(bare.output).toMatch(
      /usage: taobi replay --member <id> \| --all \(the rebuild from the ledger is now `taobi rebuild`\)/,
    );
  });
});
