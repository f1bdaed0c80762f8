import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CATALOGUE } from '@taobi/benefits';
import type { DeadLetter } from '@taobi/contracts';
import { ServiceProcess, TopicReader, uniqueId, waitFor } from '@taobi/tests';
import { ADMIN, CHECKOUT, Harness, READ, tierChange } from './harness';

describe('the entitlement API and consumer edges (real Kafka and Postgres)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start();
  });
  afterAll(async () => {
    await h.close();
  });

  it('when the catalogue is read, then it is the versioned one, behind the read key', async () => {
    const response = await h.inject({ method: 'GET', url: '/v1/benefits', headers: READ });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      version: DEFAULT_CATALOGUE.version,
      vip88: { nominalPriceFen: 8800 },
    });
    expect(response.json().benefits).toEqual(JSON.parse(JSON.stringify(DEFAULT_CATALOGUE.benefits)));
    expect((await h.inject({ method: 'GET', url: '/v1/benefits' })).statusCode).toBe(401);
    expect((await h.inject({ method: 'GET', url: '/v1/benefits', headers: ADMIN })).statusCode).toBe(403);
  });

  it('when a member has many grants, then the list pages newest first without overlap and filters by status', async () => {
    const m = uniqueId('m');
    await h.produce([tierChange(m, 'BRONZE', 'BLACK_DIAMOND', 1), tierChange(m, 'BLACK_DIAMOND', 'GOLD', 2)]);
    await waitFor(async () => ((await h.entitlements(m)).tier === 'GOLD' ? true : undefined), {
      description: 'Gold',
    });
    const all = (await h.entitlements(m)).entitlements.map((e) => e.id);
    const seen: string[] = [];
    let before: string | null = null;
    do {
      const url: string = `/v1/members/${m}/entitlements?limit=4${before ? `&before=${before}` : ''}`;
      const page = (await h.inject({ method: 'GET', url, headers: READ })).json();
      seen.push(...page.entitlements.map((e: { id: string }) => e.id));
      before = page.nextBefore;
    } while (before);
    expect(seen).toEqual(all);
    expect(all.map(Number)).toEqual([...all.map(Number)].sort((a, b) => b - a));

    const revoked = await h.inject({
      method: 'GET',
      url: `/v1/members/${m}/entitlements?status=revoked`,
      headers: READ,
    });
    expect(
      revoked
        .json()
        .entitlements.map((e: { benefitId: string }) => e.benefitId)
        .sort(),
    ).toEqual(
      [
        'concierge-customer-service',
        'eleme-free-delivery',
        'fliggy-hilton-status',
        'fliggy-hotel-late-checkout',
        'fliggy-marriott-status',
        'fliggy-premium-travel-membership',
        'value-channel-discount',
      ].sort(),
    );
    const bad = await h.inject({
      method: 'GET',
      url: `/v1/members/${m}/entitlements?status=lost&limit=0`,
      headers: READ,
    });
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json()
        .error.fields.map((f: { field: string }) => f.field)
        .sort(),
    ).toEqual(['query.limit', 'query.status']);

    // A revoked grant cannot be used; an unknown one is not found.
    const revokedId = revoked.json().entitlements[0].id;
    const use = (id: string) =>
      h.inject({ method: 'POST', url: `/v1/members/${m}/entitlements/${id}/use`, headers: CHECKOUT });
    const refused = await use(revokedId);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('ENTITLEMENT_NOT_USABLE');
    expect((await use('999999999')).statusCode).toBe(404);
  });

  it('when a coupon’s period has ended, then it reads as expired before the sweep and cannot be used; using a coupon twice answers the same', async () => {
    const m = uniqueId('m');
    await h.produce([tierChange(m, 'BRONZE', 'SILVER', 1)]);
    await waitFor(async () => ((await h.entitlements(m)).tier === 'SILVER' ? true : undefined), {
      description: 'Silver',
    });
    const { entitlements } = await h.entitlements(m);
    const weekly = entitlements.find((e) => e.benefitId === 'flash-sale-weekly-coupon');
    const monthly = entitlements.find((e) => e.benefitId === 'eleme-monthly-red-packet');
    const use = (id?: string) =>
      h.inject({ method: 'POST', url: `/v1/members/${m}/entitlements/${id}/use`, headers: CHECKOUT });
    const once = await use(monthly?.id);
    const twice = await use(monthly?.id);
    expect([once.statusCode, twice.statusCode]).toEqual([200, 200]);
    expect(twice.json()).toEqual(once.json());
    const usedRecords = await h.pool.query(
      "SELECT count(*)::int AS n FROM entitlement.outbox WHERE message_key = $1 AND payload->>'action' = 'used'",
      [m],
    );
    expect(usedRecords.rows[0].n).toBe(1);

    h.clock.set('2026-11-23T02:00:00Z');
    try {
      const after = (await h.entitlements(m)).entitlements.find((e) => e.id === weekly?.id);
      expect(after?.status).toBe('expired');
      const refused = await use(weekly?.id);
      expect(refused.statusCode).toBe(409);
    } finally {
      h.clock.set('2026-11-18T04:00:00Z');
    }
  });

  it('when a tier-changed record does not match its schema, then it goes to the DLQ and the records after it still apply', async () => {
    const dlq = await TopicReader.start<DeadLetter>(h.topics.consumptionDlq, h.kafka);
    try {
      const m = uniqueId('m');
      await h.producer.send({
        topic: h.topics.tierChanged,
        messages: [
          { key: m, value: JSON.stringify({ ...tierChange(m, 'BRONZE', 'GOLD', 1), tier: 'TITANIUM' }) },
        ],
      });
      await h.produce([tierChange(m, 'BRONZE', 'SILVER', 2)]);
      const [letter] = await dlq.waitForCount(1, (r) => r.value.memberId === m);
      expect(letter?.value).toMatchObject({
        reason: 'record does not match its schema',
        errors: [{ field: 'tier' }],
      });
      await waitFor(async () => ((await h.entitlements(m)).tier === 'SILVER' ? true : undefined), {
        description: 'the valid record after the bad one',
      });
    } finally {
      await dlq.close();
    }
  });

  it('when health, readiness and metrics are asked, then Kafka, Postgres and the consumer are checked and the counters are exposed', async () => {
    const ready = await h.inject({ method: 'GET', url: '/readyz' });
    expect(ready.json()).toEqual({
      status: 'ready',
      checks: { kafka: 'ok', postgres: 'ok', [`consumer:${h.config.KAFKA_GROUP_ID}`]: 'ok' },
    });
    const metrics = await h.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(
      /taobi_entitlement_changes_total\{action="granted",kind="status",service="entitlement"\} [1-9]/,
    );
    expect(metrics.body).toContain('taobi_entitlement_tier_changes_total');
  });

  it('when the catalogue file is invalid, then the process refuses to boot with exit code 2 naming the variable', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'taobi-catalogue-')), 'catalogue.json');
    writeFileSync(file, JSON.stringify({ version: '2026.2', benefits: [], vip88: {} }));
    const service = ServiceProcess.start('services/entitlement/src/main.ts', {
      BENEFIT_CATALOGUE_FILE: file,
      PORT: '0',
    });
    const { code } = await service.exited;
    expect(code).toBe(2);
    expect(service.output).toMatch(/BENEFIT_CATALOGUE_FILE: invalid benefit catalogue: benefits: /);
  });
});
