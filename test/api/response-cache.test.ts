/**
 * The response cache (src/api/responseCache.ts) against a real server and Postgres: a repeated
 * read query is answered from memory with the same bytes; a committed write to a result table
 * makes the next answer fresh (migration 0011's NOTIFY); jobs, errors and mutations are never
 * cached; while the LISTEN connection is down nothing is served from the cache.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/api/server.js';
import { cacheable } from '../../src/api/responseCache.js';
import { appSchema } from '../../src/api/schema.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

async function ask(url: string, query: string, init: { method?: 'GET' | 'POST'; variables?: Record<string, unknown> } = {}) {
  const res =
    init.method === 'GET'
      ? await fetch(`${url}?query=${encodeURIComponent(query)}`, { headers: { accept: 'application/graphql-response+json' } })
      : await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables: init.variables }) });
  return { status: res.status, cache: res.headers.get('x-cache'), body: await res.text() };
}

/** Polls until `check` holds (notifications arrive asynchronously, within milliseconds). */
async function eventually(check: () => Promise<boolean>, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const GAMES = '{ games { id description datasetCount } }';

describe('response cache', () => {
  let db: TestDatabase;
  let server: RunningServer;
  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startServer({ pool: db.pool, port: 0, responseCacheBytes: 4 << 20 });
    await eventually(async () => server.cacheStats()!.live);
  });
  afterAll(async () => {
    await server.close();
    await db.drop();
  });

  it('answers a repeated read query from memory, byte for byte, per method', async () => {
    const first = await ask(server.url, GAMES);
    const second = await ask(server.url, GAMES);
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body).data.games).toHaveLength(2);
    expect([first.cache, second.cache]).toEqual(['miss', 'hit']);
    expect(second.body).toBe(first.body);
    // GET is its own entry (another accept header, another key), answered the same way.
    const get1 = await ask(server.url, GAMES, { method: 'GET' });
    const get2 = await ask(server.url, GAMES, { method: 'GET' });
    expect([get1.cache, get2.cache]).toEqual(['miss', 'hit']);
    expect(JSON.parse(get2.body)).toEqual(JSON.parse(first.body));
    // Variables are part of the key.
    const q = 'query G($id: GameId!) { game(id: $id) { id vocabSize } }';
    const othello = await ask(server.url, q, { variables: { id: 'othello' } });
    const chess = await ask(server.url, q, { variables: { id: 'chess' } });
    expect(chess.cache).toBe('miss');
    expect(JSON.parse(othello.body).data.game.vocabSize).toBe(61);
    expect(JSON.parse(chess.body).data.game.vocabSize).toBe(32);
  });

  it('answers fresh after a committed write to a result table, and never after a rolled-back one', async () => {
    await ask(server.url, GAMES);
    expect((await ask(server.url, GAMES)).cache).toBe('hit');
    const before = server.cacheStats()!.generation;

    // A rolled-back write notifies nobody: still served from the cache.
    const c = await db.pool.connect();
    await c.query('BEGIN');
    await c.query(`UPDATE games SET description = 'rolled back' WHERE id = 'chess'`);
    await c.query('ROLLBACK');
    c.release();
    await new Promise((r) => setTimeout(r, 100));
    expect(server.cacheStats()!.generation).toBe(before);
    expect((await ask(server.url, GAMES)).cache).toBe('hit');

    await db.pool.query(`UPDATE games SET description = 'changed by the test' WHERE id = 'chess'`);
    await eventually(async () => server.cacheStats()!.generation > before);
    const fresh = await ask(server.url, GAMES);
    expect(fresh.cache).toBe('miss');
    expect(JSON.parse(fresh.body).data.games.find((g: { id: string }) => g.id === 'chess').description).toBe('changed by the test');
    expect((await ask(server.url, GAMES)).cache).toBe('hit');

    // An insert into another result table (datasets) invalidates the games answer too (its counts).
    await db.pool.query(`INSERT INTO datasets (name, game, source, path, manifest, manifest_sha256, n_games, n_positions, code_version)
      VALUES ('cache-test', 'chess', 'random-legal', '/x', '{}', 'h', 1, 20, 'test')`);
    let counted = 0;
    await eventually(async () => {
      const r = await ask(server.url, GAMES);
      counted = JSON.parse(r.body).data.games.find((g: { id: string }) => g.id === 'chess').datasetCount;
      return counted === 1;
    });
    expect(counted).toBe(1);
  });

  it('never caches jobs, health, errors or anything with a Job inside', async () => {
    for (const query of ['{ health }', '{ jobs(first: 5) { totalCount } }', '{ games { id } health }', '{ game(id: go) { id } }', '{ feature(id: "x") { index } }']) {
      const a = await ask(server.url, query);
      const b = await ask(server.url, query);
      expect(b.cache, query).not.toBe('hit');
      expect(a.cache === null || a.cache === 'miss', query).toBe(true);
    }
    // The static check, on the schema itself: any selected field of a job type makes it uncacheable.
    const schema = appSchema();
    expect(cacheable(schema, '{ saes(first: 3) { edges { node { id } } } }')).toBe(true);
    expect(cacheable(schema, 'mutation { cancelJob(id: "1") { id } }')).toBe(false);
    expect(cacheable(schema, '{ job(id: "1") { id } }')).toBe(false);
    expect(cacheable(schema, '{ ...F } fragment F on Query { games { id } }')).toBe(false);
    expect(cacheable(schema, 'query A { games { id } } query B { health }', 'B')).toBe(false);
    expect(cacheable(schema, 'query A { games { id } } query B { health }', 'A')).toBe(true);
    expect(cacheable(schema, '{ games { id ')).toBe(false);
  });

  it('serves nothing from the cache while the LISTEN connection is down, and recovers', async () => {
    await ask(server.url, GAMES);
    expect((await ask(server.url, GAMES)).cache).toBe('hit');
    const pid = server.cacheStats()!.listenerPid;
    const listening = await db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND datname = current_database()`, [pid]);
    expect(listening.rowCount).toBe(1);
    await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    await eventually(async () => !server.cacheStats()!.live);
    expect((await ask(server.url, GAMES)).cache).toBe('miss');
    expect((await ask(server.url, GAMES)).cache).toBe('miss');
    // It reconnects on its own (backoff from 250 ms) and caches again.
    await eventually(async () => server.cacheStats()!.live, 5000);
    await ask(server.url, GAMES);
    expect((await ask(server.url, GAMES)).cache).toBe('hit');
  });

  it('is off with responseCacheBytes 0: no header, every answer computed', async () => {
    const plain = await startServer({ pool: db.pool, port: 0, responseCacheBytes: 0 });
    try {
      const a = await ask(plain.url, GAMES);
      const b = await ask(plain.url, GAMES);
      expect([a.cache, b.cache]).toEqual([null, null]);
      expect(b.body).toBe(a.body);
      expect(plain.cacheStats()).toBeNull();
    } finally {
      await plain.close();
    }
  });

  it('stays within its byte budget', async () => {
    const small = await startServer({ pool: db.pool, port: 0, responseCacheBytes: 64 << 10 });
    try {
      await eventually(async () => small.cacheStats()!.live);
      for (let i = 0; i < 200; i++) await ask(small.url, `{ games { id } g${i}: game(id: othello) { id } }`);
      const s = small.cacheStats()!;
      expect(s.bytes).toBeLessThanOrEqual(64 << 10);
      expect(s.evictions).toBeGreaterThan(0);
      expect(s.entries).toBeGreaterThan(10);
    } finally {
      await small.close();
    }
  });
});
