/**
 * `saeboard serve` with its safety flags, as a user starts it: a child process on a real database,
 * driven over HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/services/apikeys.service.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

describe('saeboard serve flags', () => {
  let db: TestDatabase;
  let child: ChildProcess;
  let url: string;
  let stderr = '';
  beforeAll(async () => {
    db = await createTestDatabase();
    child = spawn(
      process.execPath,
      [
        '--import', 'tsx', path.join(PROJECT_ROOT, 'src/cli/main.ts'), 'serve', '--port', '0', '--no-seed',
        '--require-key', '--cors-origin', 'https://a.example,https://b.example', '--max-aliases', '2', '--max-body', '2048', '--statement-timeout', '4321',
      ],
      { cwd: PROJECT_ROOT, env: { ...process.env, DATABASE_URL: db.url, SAEBOARD_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    url = await new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /GraphQL API at (\S+)/.exec(stderr);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    });
  });
  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await db.drop();
  });

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  it('applies --require-key, --cors-origin, --max-aliases and --max-body, and listens on 127.0.0.1', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(stderr).toMatch(/\(API key required\)/);
    const noKey = await post('{"query":"{ health }"}');
    expect(noKey.status).toBe(401);
    const { token } = await createApiKey(db.pool, 'ci');
    const auth = { authorization: `Bearer ${token}`, origin: 'https://b.example' };
    const ok = await post('{"query":"{ a: health b: health }"}', auth);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://b.example');
    expect(await ok.json()).toEqual({ data: { a: 'ok', b: 'ok' } });
    const aliases = await post('{"query":"{ a: health b: health c: health }"}', auth);
    expect(((await aliases.json()) as { errors: { message: string }[] }).errors[0].message).toBe('Aliases limit of 2 exceeded, found 3.');
    expect((await post(JSON.stringify({ query: '{ health }', pad: 'x'.repeat(3000) }), auth)).status).toBe(413);
  });
});
