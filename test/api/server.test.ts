import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startServer, type RunningServer } from '../../src/api/server.js';
import { initBackend } from '../../src/tensor/backend.js';
import { log } from '../../src/log.js';
import { createPool } from '../../src/db/pool.js';
import { schemaSdl } from '../../src/api/schema.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

async function post(url: string, body: unknown, contentType = 'application/json') {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
}

describe('GraphQL server over HTTP', () => {
  let db: TestDatabase;
  let server: RunningServer;
  beforeAll(async () => {
    db = await createTestDatabase();
    await initBackend();
    server = await startServer({ pool: db.pool, port: 0 });
  });
  afterAll(async () => {
    await server.close();
    await db.drop();
  });

  it('answers health and version (with the active backend)', async () => {
    const { status, json } = await post(server.url, { query: '{ health version { version backend kernels node } }' });
    expect(status).toBe(200);
    expect(json.errors).toBeUndefined();
    expect(json.data.health).toBe('ok');
    const pkg = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8'));
    expect(json.data.version.version).toBe(pkg.version);
    expect(json.data.version.backend).not.toBe('not initialised');
    expect(json.data.version.node).toBe(process.version);
  });

  it('reads games from Postgres, with per-game counts batched', async () => {
    await db.pool.query(`INSERT INTO datasets (name, game, source, path, manifest, manifest_sha256, n_games, n_positions, code_version)
      VALUES ('d1', 'chess', 'random-legal', '/x', '{}', 'h', 1, 20, 'test'), ('d2', 'chess', 'random-legal', '/y', '{}', 'h', 1, 20, 'test')`);
    const { json } = await post(server.url, { query: '{ games { id vocabSize tokenizer datasetCount } game(id: othello) { vocabSize } }' });
    expect(json.errors).toBeUndefined();
    expect(json.data.games).toEqual([
      { id: 'chess', vocabSize: 32, tokenizer: 'chess-char-32', datasetCount: 2 },
      { id: 'othello', vocabSize: 61, tokenizer: 'othello-61', datasetCount: 0 },
    ]);
    expect(json.data.game.vocabSize).toBe(61);
  });

  it('answers a malformed query with 400 and a GraphQL parse error, and keeps serving', async () => {
    const bad = await post(server.url, { query: '{ health version { ' });
    expect(bad.status).toBe(400);
    expect(bad.json.errors?.[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    const invalid = await post(server.url, { query: '{ game(id: go) { id } }' });
    expect(invalid.status).toBe(400);
    expect(invalid.json.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const notJson = await post(server.url, '{"query": ', 'application/json');
    expect(notJson.status).toBe(400);
    expect(notJson.json.errors?.[0].extensions?.code).toBe('BAD_REQUEST');
    const ok = await post(server.url, { query: '{ health }' });
    expect(ok.json.data.health).toBe('ok');
  });

  it('hides internal errors: generic message, stable code, no stack trace', async () => {
    const broken = createPool(db.url);
    await broken.end(); // every query on it now throws an internal error
    const other = await startServer({ pool: broken, port: 0 });
    const logged = vi.spyOn(log, 'error').mockImplementation(() => undefined);
    try {
      const res = await fetch(other.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ games { id } }' }) });
      const json = (await res.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] };
      expect(res.status).toBe(200);
      // The client gets the request id (header, message, extensions) to quote, and nothing else.
      const requestId = res.headers.get('x-request-id');
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(json.errors[0].message).toBe(`Internal server error (request ${requestId}; the server log has the details)`);
      expect(json.errors[0].extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', requestId });
      expect(JSON.stringify(json)).not.toMatch(/stacktrace|at .*\.ts:\d+|pool/);
      // ...while the server log keeps the real cause, under the same id.
      expect(logged).toHaveBeenCalledTimes(1);
      const entry = logged.mock.calls[0][0] as { err: Error; requestId: string };
      expect(String(entry.err.message)).toMatch(/pool after calling end/);
      expect(entry.requestId).toBe(requestId);
      const health = await post(other.url, { query: '{ health }' });
      expect(health.json.data.health).toBe('degraded');
    } finally {
      logged.mockRestore();
      await other.close();
    }
  });

  it('serves /healthz and 404s unknown routes with a JSON error', async () => {
    const base = server.url.replace('/graphql', '');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const res = await fetch(`${base}/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).errors[0].extensions.code).toBe('NOT_FOUND');
    const put = await fetch(server.url, { method: 'PUT', body: '{}' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST');
    expect(((await put.json()) as any).errors[0].extensions.code).toBe('METHOD_NOT_ALLOWED');
  });
});

describe('schema.graphql', () => {
  it('is the committed output of the type-graphql schema (run `npm run schema:print` after changing it)', () => {
    const committed = readFileSync(path.join(PROJECT_ROOT, 'schema.graphql'), 'utf8');
    expect(schemaSdl()).toBe(committed);
  });
});
