/**
 * The BSP catalogue cache (src/services/catalogue.ts) in a real server over real Postgres, with
 * the response cache off so every answer is computed: a board property's name and the families
 * are looked up once, not once per request; a committed write to board_properties or
 * bsp_families (a rename, 0013's best-F1 update) is seen by the next request; unknown names are
 * never kept; while the LISTEN connection is down every lookup goes to Postgres again.
 */
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/api/server.js';
import { createApiPool } from '../../src/db/pool.js';
import { registerBspCatalogue } from '../../src/jobs/datasets.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

async function eventually(check: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const BY_NAME = 'query P($name: String!) { boardProperty(name: $name, game: othello) { id name bestF1 } }';
const LEADERBOARD = '{ leaderboard(game: othello, metric: "coverage", family: "board_state") { family entries { rank } } }';

describe('BSP catalogue cache', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let server: RunningServer;
  const statements: string[] = [];
  const ask = async (query: string, variables?: Record<string, unknown>) => {
    const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    return (await res.json()) as { data?: Record<string, any>; errors?: { message: string; extensions: { code: string } }[] };
  };
  const nameLookups = () => statements.filter((s) => /lower\(bp\.name\) = lower\(\$1\)/.test(s)).length;
  const familyReads = () => statements.filter((s) => /FROM bsp_families/.test(s)).length;

  beforeAll(async () => {
    db = await createTestDatabase();
    await registerBspCatalogue(db.pool, ['othello']);
    pool = createApiPool(db.url, { max: 4 });
    // Every statement the server sends through its pool.
    const query = pool.query.bind(pool) as (...a: unknown[]) => unknown;
    (pool as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
      statements.push(typeof a[0] === 'string' ? a[0] : String((a[0] as { text?: string }).text));
      return query(...a);
    };
    server = await startServer({ pool, port: 0, responseCacheBytes: 0 });
    await eventually(() => server.processCacheStats().live);
  });
  afterAll(async () => {
    await server.close();
    await pool.end();
    await db.drop();
  });
  beforeEach(() => void (statements.length = 0));

  it('looks a name up once, whatever its case, and the families once', async () => {
    const first = await ask(BY_NAME, { name: 'd4 is a valid move' });
    expect(first.errors).toBeUndefined();
    expect(first.data!.boardProperty.name).toBe('d4 is a valid move');
    for (const name of ['d4 is a valid move', 'D4 IS A VALID MOVE', '  d4 is a valid move ']) {
      expect((await ask(BY_NAME, { name })).data).toEqual(first.data);
    }
    expect(nameLookups()).toBe(1);

    expect((await ask(LEADERBOARD)).data!.leaderboard.family).toBe('board_state');
    expect((await ask(LEADERBOARD)).data!.leaderboard.family).toBe('board_state');
    expect(familyReads()).toBe(1);
  });

  it('sees a committed rename and a new best F1 at the next request; a rolled-back one changes nothing', async () => {
    const before = (await ask(BY_NAME, { name: 'e5 is a valid move' })).data!.boardProperty;
    expect(before.bestF1).toBeNull();

    const c = await db.pool.connect();
    await c.query('BEGIN');
    await c.query(`UPDATE board_properties SET name = 'rolled back' WHERE id = $1`, [before.id]);
    await c.query('ROLLBACK');
    c.release();
    await new Promise((r) => setTimeout(r, 100));
    statements.length = 0;
    expect((await ask(BY_NAME, { name: 'e5 is a valid move' })).data!.boardProperty.id).toBe(before.id);
    expect(nameLookups()).toBe(0);

    // What migration 0013's triggers do when an evaluation lands.
    await db.pool.query(`UPDATE board_properties SET best_f1 = 0.75 WHERE id = $1`, [before.id]);
    await eventually(async () => (await ask(BY_NAME, { name: 'e5 is a valid move' })).data!.boardProperty.bestF1 === 0.75);

    await db.pool.query(`UPDATE board_properties SET name = 'e5 is renamed' WHERE id = $1`, [before.id]);
    await eventually(async () => (await ask(BY_NAME, { name: 'e5 is renamed' })).data?.boardProperty?.id === before.id);
    const old = await ask(BY_NAME, { name: 'e5 is a valid move' });
    expect(old.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    await db.pool.query(`UPDATE board_properties SET name = 'e5 is a valid move', best_f1 = NULL WHERE id = $1`, [before.id]);

    // A family's short name, the same way.
    await ask(LEADERBOARD);
    await db.pool.query(`UPDATE bsp_families SET short_name = 'board' WHERE game = 'othello' AND short_name = 'board_state'`);
    await eventually(async () => (await ask(LEADERBOARD)).errors?.[0].extensions.code === 'BAD_USER_INPUT');
    await db.pool.query(`UPDATE bsp_families SET short_name = 'board_state' WHERE game = 'othello' AND short_name = 'board'`);
    await eventually(async () => (await ask(LEADERBOARD)).errors === undefined);
  });

  it('keeps no unknown name: each is looked up (and answered with suggestions) every time', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await ask(BY_NAME, { name: 'd4 is a valid mve' });
      expect(r.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
      expect(r.errors?.[0].message).toContain('"d4 is a valid move"');
    }
    expect(nameLookups()).toBe(3);
    const held = server.processCacheStats().names;
    await ask(BY_NAME, { name: 'still unknown' });
    expect(server.processCacheStats().names).toBe(held);
  });

  it('trusts nothing it holds while the LISTEN connection is down, and caches again once back', async () => {
    await ask(BY_NAME, { name: 'c3 is a valid move' });
    statements.length = 0;
    await ask(BY_NAME, { name: 'c3 is a valid move' });
    expect(nameLookups()).toBe(0);

    await db.pool.query('SELECT pg_terminate_backend($1)', [server.processCacheStats().listenerPid]);
    await eventually(() => !server.processCacheStats().live);
    // A write while nobody listens: seen at once, since nothing held is used.
    await db.pool.query(`UPDATE board_properties SET best_f1 = 0.5 WHERE game = 'othello' AND name = 'c3 is a valid move'`);
    statements.length = 0;
    expect((await ask(BY_NAME, { name: 'c3 is a valid move' })).data!.boardProperty.bestF1).toBe(0.5);
    await ask(BY_NAME, { name: 'c3 is a valid move' });
    expect(nameLookups()).toBe(2);

    await eventually(() => server.processCacheStats().live);
    await ask(BY_NAME, { name: 'c3 is a valid move' });
    statements.length = 0;
    await ask(BY_NAME, { name: 'c3 is a valid move' });
    expect(nameLookups()).toBe(0);
    await db.pool.query(`UPDATE board_properties SET best_f1 = NULL WHERE game = 'othello' AND name = 'c3 is a valid move'`);
  });
});
