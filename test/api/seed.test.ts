import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/api/server.js';
import { shippedModelNames } from '../../src/lm/models.js';
import { seedDatabase } from '../../src/jobs/seed.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

describe('seeding at serve', () => {
  let db: TestDatabase;
  let server: RunningServer;
  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startServer({ pool: db.pool, port: 0 });
  });
  afterAll(async () => {
    await server.close();
    await db.drop();
  });

  it('registers the BSP catalogue and the shipped models once, visible through the API', async () => {
    const first = await seedDatabase(db.pool);
    expect(first.models.sort()).toEqual(shippedModelNames().sort());
    const counts = async () =>
      (await db.pool.query(`SELECT (SELECT count(*) FROM board_properties)::int AS bsp, (SELECT count(*) FROM lm_models)::int AS lms, (SELECT count(*) FROM lm_checkpoints)::int AS ckpts`)).rows[0];
    const before = await counts();
    expect(before.bsp).toBeGreaterThan(256 + 768);
    expect(before.lms).toBe(shippedModelNames().length);
    await seedDatabase(db.pool);
    expect(await counts()).toEqual(before);
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ game(id: othello) { boardPropertyCount lmModelCount } }' }),
    });
    const json = (await res.json()) as { data: { game: { boardPropertyCount: number; lmModelCount: number } } };
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM board_properties WHERE game = 'othello'`);
    expect(json.data.game.boardPropertyCount).toBe(rows[0].n);
    expect(json.data.game.lmModelCount).toBe(shippedModelNames().filter((n) => n.startsWith('othello')).length);
  });
});
