import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, type Service } from '@taobi/platform';
import { testLogger, uniqueId, waitFor } from '@taobi/tests';
import { createStage, order, produce, READ, type Stage, startScoring } from './harness';

const MIGRATIONS = join(__dirname, '..', 'migrations');

/**
 * The per-source columns of `scoring.members` became one json map (1796000000000): a database
 * the first migration created, holding scores, is migrated with its data and keeps serving them.
 */
describe('scoring storage: per-source points as a map', () => {
  let stage: Stage;
  let service: Service;
  const before = mkdtempSync(join(tmpdir(), 'scoring-migrations-'));

  beforeAll(async () => {
    stage = await createStage();
    copyFileSync(
      join(MIGRATIONS, '1795430000000_scoring-ledger.sql'),
      join(before, '1795430000000_scoring-ledger.sql'),
    );
    await migrate({ databaseUrl: stage.databaseUrl, schema: 'scoring', dir: before, logger: testLogger() });
  });

  afterAll(async () => {
    await service?.stop();
    await stage.close();
    rmSync(before, { recursive: true, force: true });
  });

  it('when a database with per-source columns is migrated, then every member keeps its breakdown and score, and new points add to them', async () => {
    const [rich, fresh] = [uniqueId('m'), uniqueId('m')];
    await stage.db.query(
      `INSERT INTO scoring.members (member_id, window_from, version, score, base, ecommerce, food, travel, mobility, rule_version)
       VALUES ($1, '2025-12', 4, 342, 300, 20, 5, 14, 3, '2026.1'), ($2, '2025-12', 0, 300, 300, 0, 0, 0, 0, '2026.1')`,
      [rich, fresh],
    );

    service = await startScoring(stage);

    const { rows } = await stage.db.query(
      'SELECT member_id, source_points FROM scoring.members WHERE member_id = ANY($1) ORDER BY member_id = $2 DESC',
      [[rich, fresh], rich],
    );
    expect(rows).toEqual([
      { member_id: rich, source_points: { ecommerce: 20, food: 5, travel: 14, mobility: 3 } },
      { member_id: fresh, source_points: {} },
    ]);
    const { rows: columns } = await stage.db.query(
      `SELECT column_name FROM information_schema.columns
       WHERE table_schema = 'scoring' AND table_name = 'members' AND column_name IN ('ecommerce', 'food', 'travel', 'mobility')`,
    );
    expect(columns).toEqual([]);

    const read = async (memberId: string) =>
      (
        await service.app.inject({ method: 'GET', url: `/v1/members/${memberId}/score`, headers: READ })
      ).json();
    expect(await read(rich)).toMatchObject({
      score: 342,
      version: 4,
      breakdown: { base: 300, ecommerce: 20, food: 5, travel: 14, mobility: 3 },
    });
    expect((await read(fresh)).breakdown).toEqual({
      base: 300,
      ecommerce: 0,
      food: 0,
      travel: 0,
      mobility: 0,
    });

    // New points add to the migrated ones: a 40 CNY meal earns no spending point and 1 frequency point.
    await produce(stage, [order({ memberId: rich, source: 'food', amount: 4_000 })]);
    const after = await waitFor(async () => (await read(rich)).version === 5 && read(rich), {
      description: `${rich}'s score to move to version 5`,
    });
    expect(after).toMatchObject({
      score: 343,
      breakdown: { base: 300, ecommerce: 20, food: 6, travel: 14, mobility: 3 },
    });
  });
});
