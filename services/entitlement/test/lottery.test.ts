import { createHash, createHmac } from 'node:crypto';
import { DEFAULT_CATALOGUE, welcomeGift } from '@taobi/benefits';
import { TIERS, type Tier } from '@taobi/contracts';
import { uniqueId } from '@taobi/tests';
import { firstAssignment, Harness, READ, tierChange } from './harness';

const gift = welcomeGift(DEFAULT_CATALOGUE);

interface Campaign {
  campaign: string;
  startsAt: string;
  endsAt: string;
  commitment: string;
  committedAt: string;
  revealed: boolean;
  seed: string | null;
}
interface Draw {
  drawId: string;
  memberId: string;
  tier: Tier;
  campaign: Campaign;
  odds: { tier: Tier; probability: number };
  value: number;
  won: boolean;
  entitlementId: string | null;
}

/** The auditor's own code (node:crypto only), as the README's recipe has it. */
function recompute(seedHex: string, campaign: string, memberId: string, tier: Tier) {
  const seed = Buffer.from(seedHex, 'hex');
  const mac = createHmac('sha256', seed).update(`taobi.lottery.v2|${campaign}|${memberId}|${tier}`).digest();
  return {
    commitment: createHash('sha256').update(seed).digest('hex'),
    value: mac.readUIntBE(0, 6) / 2 ** 48,
  };
}

describe('the welcome-gift lottery, committed and revealed (real Kafka and Postgres)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start();
  });
  afterAll(async () => {
    await h.close();
  });

  const get = async (url: string) => {
    const response = await h.inject({ method: 'GET', url, headers: READ });
    expect(response.statusCode).toBe(200);
    return response.json();
  };
  const commitments = async (): Promise<Campaign[]> => (await get('/v1/lottery/commitments')).campaigns;

  it('when members reach tiers, then each first arrival at a tier draws once with the committed seed, and after the campaign anyone recomputes every draw', async () => {
    // Committed before anyone draws: this week's campaign and the next, which is committed before it starts.
    const before = await commitments();
    expect(before.map((c) => c.campaign)).toEqual(['2026-W48', '2026-W47']);
    expect(before.every((c) => !c.revealed && c.seed === null)).toBe(true);
    const next = before[0] as Campaign;
    expect(Date.parse(next.committedAt)).toBeLessThan(Date.parse(next.startsAt));

    // 60 members placed at every tier; one climbs, falls back and climbs again.
    const members = Array.from({ length: 60 }, () => uniqueId('m'));
    const placed = (i: number) => TIERS[i % TIERS.length] as Tier;
    await h.produce(members.map((m, i) => firstAssignment(m, placed(i))));
    const climber = uniqueId('m');
    await h.produce([
      firstAssignment(climber, 'SILVER'),
      tierChange(climber, 'SILVER', 'PLATINUM', 2),
      tierChange(climber, 'PLATINUM', 'SILVER', 3, { reason: 'monthly-evaluation' }),
      tierChange(climber, 'SILVER', 'PLATINUM', 4),
    ]);
    await h.waitUntilConsumed();

    const drawsOf = async (m: string): Promise<Draw[]> => (await get(`/v1/members/${m}/welcome-gift`)).draws;
    expect((await drawsOf(climber)).map((d) => d.tier)).toEqual(['SILVER', 'PLATINUM']);
    const draws: Draw[] = [...(await drawsOf(climber))];
    for (const [i, m] of members.entries()) {
      const mine = await drawsOf(m);
      expect(mine.map((d) => d.tier)).toEqual([placed(i)]);
      draws.push(...mine);
    }
    expect(draws.every((d) => d.campaign.campaign === '2026-W47' && d.campaign.seed === null)).toBe(true);
    const unrevealed = await get(`/v1/lottery/draws/${draws[0]?.drawId}`);
    expect(unrevealed.campaign).toMatchObject({ revealed: false, seed: null });

    // Each win is the voucher, granted once and published; a loss grants nothing.
    const wins = draws.filter((d) => d.won);
    for (const draw of draws) {
      const vouchers = (await h.entitlements(draw.memberId)).entitlements.filter(
        (e) => e.benefitId === gift.id,
      );
      expect(vouchers.map((v) => v.id)).toEqual(
        draws.filter((d) => d.memberId === draw.memberId && d.won).map((d) => d.entitlementId),
      );
    }
    await h.waitUntilPublished();
    expect(
      h.reader.matching((r) => r.value.benefitId === gift.id && r.value.action === 'granted'),
    ).toHaveLength(wins.length);

    // The week ends: the seed is revealed, matches what was committed before, and every draw recomputes.
    h.clock.set('2026-11-23T02:00:00Z');
    try {
      const revealed = (await commitments()).find((c) => c.campaign === '2026-W47') as Campaign;
      const committed = before.find((c) => c.campaign === '2026-W47') as Campaign;
      expect(revealed).toMatchObject({ revealed: true, commitment: committed.commitment });
      const seed = revealed.seed as string;
      expect(recompute(seed, '2026-W47', 'x', 'GOLD').commitment).toBe(committed.commitment);
      for (const draw of draws) {
        const published = await get(`/v1/lottery/draws/${draw.drawId}`);
        expect(published.campaign.seed).toBe(seed);
        expect(published.message).toBe(`taobi.lottery.v2|2026-W47|${draw.memberId}|${draw.tier}`);
        expect(published.odds).toEqual({ tier: draw.tier, probability: gift.fulfilment.odds[draw.tier] });
        const { value } = recompute(seed, published.campaign.campaign, published.memberId, published.tier);
        expect(published.value).toBe(value);
        expect(published.won).toBe(value < published.odds.probability);
      }
    } finally {
      h.clock.set('2026-11-18T04:00:00Z');
    }
  });

  it('when the service restarts in a later campaign, then the one after is committed before it starts and no seed is replaced', async () => {
    const before = await commitments();
    await h.stopService();
    h.clock.set('2026-11-24T00:00:00Z');
    try {
      await h.startService();
      const after = await commitments();
      expect(after.map((c) => c.campaign).slice(0, 3)).toEqual(['2026-W49', '2026-W48', '2026-W47']);
      const w49 = after[0] as Campaign;
      expect(Date.parse(w49.committedAt)).toBeLessThan(Date.parse(w49.startsAt));
      for (const earlier of before) {
        expect(after.find((c) => c.campaign === earlier.campaign)?.commitment).toBe(earlier.commitment);
      }
    } finally {
      h.clock.set('2026-11-18T04:00:00Z');
    }
  });

  it('when a draw id is unknown or malformed, then 404 or 400 naming it', async () => {
    const unknown = await h.inject({
      method: 'GET',
      url: '/v1/lottery/draws/00000000-0000-4000-8000-000000000000',
      headers: READ,
    });
    expect(unknown.statusCode).toBe(404);
    const bad = await h.inject({ method: 'GET', url: '/v1/lottery/draws/not-a-draw', headers: READ });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.fields).toEqual([expect.objectContaining({ field: 'params.drawId' })]);
  });
});

describe('the lottery reference vector, end to end', () => {
  it('when the campaign seed is 32 zero bytes, then m-10002 wins and m-10001 loses at Platinum in 2026-W47, as documented', async () => {
    const h = await Harness.start({ service: { newSeed: () => '00'.repeat(32) } });
    try {
      await h.produce([firstAssignment('m-10001', 'PLATINUM'), firstAssignment('m-10002', 'PLATINUM')]);
      await h.waitUntilConsumed();
      const draw = async (m: string) =>
        (await h.inject({ method: 'GET', url: `/v1/members/${m}/welcome-gift`, headers: READ })).json()
          .draws[0];
      expect(await draw('m-10001')).toMatchObject({ value: 0x8ae98e298907 / 2 ** 48, won: false });
      expect(await draw('m-10002')).toMatchObject({ value: 0x173d28dee729 / 2 ** 48, won: true });
      const commitment = (
        await h.inject({ method: 'GET', url: '/v1/lottery/commitments', headers: READ })
      ).json().campaigns[1].commitment;
      expect(commitment).toBe('66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925');
    } finally {
      await h.close();
    }
  });
});
