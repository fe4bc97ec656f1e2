/**
 * Interrupted and failed commands leave nothing behind (real child processes, real signals):
 * SIGTERM/SIGINT mid-`games generate` remove the temp build directory, a `kill -9` leaves one that
 * the next write into the same directory removes, and a config error writes nothing at all.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/version.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'saeboard-interrupt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CLI = ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/cli/main.ts')];
const ENV = { ...process.env, SAEBOARD_LOG_LEVEL: 'warn', DATABASE_URL: '' };

const temps = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('.tmp-'));

/**
 * Start a long `games generate` into `dir`, wait until its temp directory holds a shard (the write
 * is under way), wait `afterMs` more, then send `signal`.
 */
async function generateAndSignal(dir: string, signal: NodeJS.Signals, afterMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; err: string; sawTemp: string }> {
  const child = spawn(process.execPath, [...CLI, 'games', 'generate', 'othello', '--games', '400000', '--shard-games', '2000', '--out', path.join(dir, 'data'), '--no-register', '--no-progress'], {
    cwd: PROJECT_ROOT,
    env: ENV,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, sig) => resolve({ code, signal: sig })));
  let sawTemp = '';
  const deadline = Date.now() + 60_000;
  while (!sawTemp && Date.now() < deadline) {
    const t = temps(dir)[0];
    if (t && readdirSync(path.join(dir, t)).length > 0) sawTemp = t;
    else await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, afterMs));
  child.kill(signal);
  return { ...(await exited), err, sawTemp };
}

describe('interrupted commands leave no temporaries', () => {
  it('SIGTERM and SIGINT mid `games generate`: exit 143/130, one line, no .tmp-* and no dataset', async () => {
    const runs: [NodeJS.Signals, number][] = [
      ['SIGTERM', 0],
      ['SIGTERM', 150],
      ['SIGINT', 0],
      ['SIGINT', 150],
    ];
    for (const [signal, afterMs] of runs) {
      const dir = mkdtempSync(path.join(tmp, 'gen-'));
      const r = await generateAndSignal(dir, signal, afterMs);
      expect(r.sawTemp, 'the write had started').toMatch(/^\.tmp-data-\d+-\d+-[0-9a-f]{8}$/);
      expect(r.code, r.err).toBe(signal === 'SIGINT' ? 130 : 143);
      expect(r.err.trim()).toBe(`saeboard: interrupted (${signal}); nothing was written to ${path.join(dir, 'data')}`);
      expect(readdirSync(dir), `${signal} after ${afterMs} ms`).toEqual([]);
    }
  }, 240_000);

  it('after kill -9 the next run into the same directory removes the stale temp directory', async () => {
    const dir = mkdtempSync(path.join(tmp, 'kill9-'));
    const r = await generateAndSignal(dir, 'SIGKILL', 100);
    expect(r.signal).toBe('SIGKILL');
    expect(temps(dir)).toEqual([r.sawTemp]);
    const next = spawnSync(process.execPath, [...CLI, 'games', 'generate', 'othello', '--games', '20', '--out', path.join(dir, 'small'), '--no-register', '--no-progress'], {
      cwd: PROJECT_ROOT,
      env: ENV,
      encoding: 'utf8',
    });
    expect(next.status, next.stderr).toBe(0);
    expect(readdirSync(dir)).toEqual(['small']);
  }, 120_000);
});

describe('a config error writes nothing', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [...CLI, ...args], { cwd: PROJECT_ROOT, env: ENV, encoding: 'utf8', timeout: 120_000 });

  it('sae train on a missing activation set, sae sweep on a too-small source, games generate with an unknown family', () => {
    const dir = mkdtempSync(path.join(tmp, 'config-'));
    const train = run('sae', 'train', '-t', 'standard', '--activations', path.join(dir, 'nope'), '--out', path.join(dir, 'one'), '--set', 'l1Penalty=0.1', '--set', 'expansion=2', '--steps', '2000', '--no-register');
    expect(train.status).toBe(1);
    expect(train.stderr).toMatch(/^saeboard: error: .*nope: not an activation directory/);
    const cfg = path.join(tmp, 'small-source.yaml');
    writeFileSync(cfg, 'name: s\nsource: { type: synthetic, dIn: 8, features: 8, active: 2, contexts: 10 }\ntrainers:\n  - { trainer: standard, expansion: 2, steps: 5000, l1Penalty: 0.1 }\n');
    const sweep = run('sae', 'sweep', '--config', cfg, '--out', path.join(dir, 'sweep'), '--no-register');
    expect(sweep.status).toBe(1);
    expect(sweep.stderr).toMatch(/^saeboard: error: the activation source has 10 vectors but 5000 steps × batch 8192 need/);
    const gen = run('games', 'generate', 'othello', '--games', '10', '--bsp', 'no_such_family', '--out', path.join(dir, 'data'), '--no-register');
    expect(gen.status).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
    expect(existsSync(path.join(dir, 'one'))).toBe(false);
  }, 180_000);
});
