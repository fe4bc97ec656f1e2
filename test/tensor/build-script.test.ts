/**
 * scripts/build-native.mjs runs on every `npm install`: it must never fail the install. Without a
 * compiler (simulated with an empty PATH, so no build is attempted and the current addon is left
 * alone) it prints one line with the way to the fast path and exits 0.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { prebuiltStatus } from '../../native/prebuilt.mjs';
import { PROJECT_ROOT } from '../../src/version.js';

const script = path.join(PROJECT_ROOT, 'scripts', 'build-native.mjs');

function run(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [script, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('build-native script', () => {
  it('exits 0 with one explanatory line when no C compiler is available (no usable prebuilt addons)', () => {
    const r = run(['--force'], { PATH: path.join(PROJECT_ROOT, 'no-such-dir'), SAEBOARD_PREBUILT: 'off' });
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^saeboard: native kernels not built \(no C compiler\); using the slower pure-JS kernels\./);
    expect(lines[0]).toMatch(/apt-get install libopenblas-dev build-essential python3, then npm run build:native$/);
  });

  it.runIf(prebuiltStatus().ok)('says the prebuilt addons are used when there is no C compiler and they fit this machine', () => {
    const r = run(['--force'], { PATH: path.join(PROJECT_ROOT, 'no-such-dir') });
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^saeboard: native kernels not built \(no C compiler\); using the prebuilt ones \(native\/prebuilt, saeboard's own SGEMM\)\./);
    expect(lines[0]).toMatch(/For OpenBLAS GEMMs: apt-get install libopenblas-dev build-essential python3, then npm run build:native$/);
  });

  it('can be skipped with SAEBOARD_SKIP_NATIVE_BUILD=1', () => {
    const r = run([], { SAEBOARD_SKIP_NATIVE_BUILD: '1' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(/not built \(SAEBOARD_SKIP_NATIVE_BUILD=1\)/);
  });
});
