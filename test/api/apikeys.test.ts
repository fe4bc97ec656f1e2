/**
 * API keys end to end: `saeboard apikey create|list|revoke` against real Postgres, then the server
 * over HTTP with and without --require-key; per-key and per-IP rate limits; CORS; the listen address.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/api/server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { PROJECT_ROOT } from '../../src/version.js';

/** The CLI from source, as a user runs it: exit code and both streams. */
async function runCli(args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/cli/main.ts'), ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env, SAEBOARD_LOG_LEVEL: 'warn' },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

type Json = { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };

async function gql(url: string, query: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Json };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('API keys', () => {
  let db: TestDatabase;
  let alice: string;
  let bob: string;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('`apikey create` prints the token once and stores only its SHA-256', async () => {
    const r = await runCli(['apikey', 'create', '--name', 'alice'], { DATABASE_URL: db.url });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^sbk_[A-Za-z0-9_-]{43}\n$/);
    expect(r.stderr).toMatch(/shown only this once/);
    alice = r.stdout.trim();
    const { rows } = await db.pool.query('SELECT * FROM api_keys');
    expect(rows).toHaveLength(1);
    expect(rows[0].name).toBe('alice');
    expect(rows[0].token_sha256).toBe(createHash('sha256').update(alice).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(alice);
    expect(alice.startsWith(rows[0].token_prefix)).toBe(true);

    const json = await runCli(['apikey', 'create', '--name', 'bob', '--json'], { DATABASE_URL: db.url });
    bob = JSON.parse(json.stdout).token;
    expect(bob).toMatch(/^sbk_/);
    expect(bob).not.toBe(alice);
  });

  it('refuses a duplicate or malformed name with one line and exit 1', async () => {
    const dup = await runCli(['apikey', 'create', '--name', 'alice'], { DATABASE_URL: db.url });
    expect(dup.code).toBe(1);
    expect(dup.stderr).toBe('saeboard: error: an API key named "alice" exists already; revoke it first or choose another name\n');
    const bad = await runCli(['apikey', 'create', '--name', 'no spaces'], { DATABASE_URL: db.url });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^saeboard: error: API key name "no spaces" must be/);
  });

  describe('over HTTP', () => {
    let open: RunningServer;
    let locked: RunningServer;
    beforeAll(async () => {
      open = await startServer({ pool: db.pool, port: 0 });
      locked = await startServer({ pool: db.pool, port: 0, requireKey: true });
    });
    afterAll(async () => {
      await open.close();
      await locked.close();
    });

    it('--require-key: no key is 401 UNAUTHENTICATED, a live key (Bearer or x-api-key) gets through, /healthz stays open', async () => {
      const none = await gql(locked.url, '{ health }');
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(none.json.errors?.[0].extensions).toEqual({ code: 'UNAUTHENTICATED' });
      expect(none.json.errors?.[0].message).toMatch(/requires an API key/);
      const get = await fetch(`${locked.url}?query=${encodeURIComponent('{ health }')}`);
      expect(get.status).toBe(401);

      const ok = await gql(locked.url, '{ health apiKey { name prefix } }', bearer(alice));
      expect(ok.status).toBe(200);
      expect(ok.json.data).toEqual({ health: 'ok', apiKey: { name: 'alice', prefix: alice.slice(0, 10) } });
      const viaHeader = await gql(locked.url, '{ apiKey { name } }', { 'x-api-key': bob });
      expect(viaHeader.json.data.apiKey.name).toBe('bob');

      expect((await fetch(locked.url.replace('/graphql', '/healthz'))).status).toBe(200);
    });

    it('without --require-key, reads are open but requireKey() guards its fields, and a bad key is always refused', async () => {
      expect((await gql(open.url, '{ health }')).json.data.health).toBe('ok');
      const guarded = await gql(open.url, '{ apiKey { name } }');
      expect(guarded.status).toBe(401);
      expect(guarded.json.errors?.[0].extensions).toEqual({ code: 'UNAUTHENTICATED' });
      expect(guarded.json.errors?.[0].message).toMatch(/needs an API key/);
      expect((await gql(open.url, '{ apiKey { name } }', bearer(alice))).json.data.apiKey.name).toBe('alice');

      for (const wrong of ['sbk_' + 'x'.repeat(43), 'not-even-a-token', alice + 'x']) {
        const res = await gql(open.url, '{ health }', bearer(wrong));
        expect(res.status).toBe(401);
        expect(res.json.errors?.[0]).toEqual({ message: 'The API key is unknown or revoked.', extensions: { code: 'UNAUTHENTICATED' } });
      }
    });

    it('`apikey list` shows keys without tokens; `apikey revoke` locks the key out at once', async () => {
      const list = await runCli(['apikey', 'list'], { DATABASE_URL: db.url });
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/alice/);
      expect(list.stdout).toMatch(/bob/);
      expect(list.stdout).toContain(alice.slice(0, 10));
      expect(list.stdout).not.toContain(alice);
      const used = (await db.pool.query(`SELECT last_used_at FROM api_keys WHERE name = 'alice'`)).rows[0].last_used_at;
      expect(used).toBeInstanceOf(Date);

      const revoke = await runCli(['apikey', 'revoke', 'alice'], { DATABASE_URL: db.url });
      expect(revoke.code).toBe(0);
      expect(revoke.stdout).toMatch(/^revoked API key "alice"/);
      for (const url of [locked.url, open.url]) {
        const res = await gql(url, '{ health }', bearer(alice));
        expect(res.status).toBe(401);
        expect(res.json.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      }
      expect((await gql(locked.url, '{ health }', bearer(bob))).status).toBe(200);

      const live = await runCli(['apikey', 'list', '--json'], { DATABASE_URL: db.url });
      expect(live.stdout.trim().split('\n').map((l) => JSON.parse(l).name)).toEqual(['bob']);
      const all = await runCli(['apikey', 'list', '--all', '--json'], { DATABASE_URL: db.url });
      const revoked = all.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((k) => k.name === 'alice');
      expect(revoked.revokedAt).not.toBeNull();
      const again = await runCli(['apikey', 'revoke', 'alice'], { DATABASE_URL: db.url });
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/no live API key "alice"/);
      // The name is free again.
      expect((await runCli(['apikey', 'create', '--name', 'alice'], { DATABASE_URL: db.url })).code).toBe(0);
    });

    it('rate-limits per API key and per client address with 429 RATE_LIMITED and retry-after', async () => {
      const limited = await startServer({ pool: db.pool, port: 0, rateLimit: { perIpPerMinute: 6, perKeyPerMinute: 3 } });
      try {
        for (let i = 0; i < 3; i++) expect((await gql(limited.url, '{ health }', bearer(bob))).status).toBe(200);
        const overKey = await gql(limited.url, '{ health }', bearer(bob));
        expect(overKey.status).toBe(429);
        expect(Number(overKey.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(overKey.json.errors?.[0]).toEqual({ message: expect.stringMatching(/^Too many requests from this API key: retry in \d+ s\.$/), extensions: { code: 'RATE_LIMITED' } });
        // The address has used 4 of its 6: two more without a key, then it is refused too.
        for (let i = 0; i < 2; i++) expect((await gql(limited.url, '{ health }')).status).toBe(200);
        const overIp = await gql(limited.url, '{ health }');
        expect(overIp.status).toBe(429);
        expect(overIp.json.errors?.[0].message).toMatch(/from this address/);
      } finally {
        await limited.close();
      }
    });

    it('CORS is off by default and answers only the configured origins', async () => {
      const origin = 'https://dash.example';
      const plain = await fetch(open.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
      expect(plain.headers.get('access-control-allow-origin')).toBeNull();
      expect((await gql(open.url, '{ health }', { origin })).headers.get('access-control-allow-origin')).toBeNull();

      const cors = await startServer({ pool: db.pool, port: 0, corsOrigins: [origin] });
      try {
        const preflight = await fetch(cors.url, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
        });
        expect(preflight.status).toBe(204);
        expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
        expect(preflight.headers.get('access-control-allow-headers')).toMatch(/authorization/);
        const res = await gql(cors.url, '{ health }', { origin });
        expect(res.headers.get('access-control-allow-origin')).toBe(origin);
        expect(res.headers.get('access-control-expose-headers')).toMatch(/x-request-id/);
        const other = await gql(cors.url, '{ health }', { origin: 'https://evil.example' });
        expect(other.headers.get('access-control-allow-origin')).toBeNull();
      } finally {
        await cors.close();
      }
    });

    it('listens on 127.0.0.1 unless told otherwise', () => {
      expect((open.httpServer.address() as AddressInfo).address).toBe('127.0.0.1');
      expect(open.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    });
  });
});
