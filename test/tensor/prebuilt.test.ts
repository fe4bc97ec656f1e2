/**
 * The committed prebuilt addons (native/prebuilt, made by `npm run build:prebuilt`): what an
 * install without a C compiler runs. They must be built from this checkout's native sources (a C
 * change without a rebuild fails here), need nothing but libc and libm, are refused with a
 * readable reason when stale or when the glibc is too old, and are what saeboard loads when there
 * is no local build (SAEBOARD_PREBUILT=only stands in for that; own-sgemm.test.ts checks their
 * results against the local build's).
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeSourceHash, NATIVE_SOURCE_DIRS, PREBUILT_DIR, PREBUILT_FILES, prebuiltStatus, runtimeGlibc } from '../../native/prebuilt.mjs';
import { NATIVE_ADDON_PATH } from '../../src/tensor/kernels/native.js';
import { PROJECT_ROOT } from '../../src/version.js';

const TSX = import.meta.resolve('tsx');
const here = process.platform === 'linux' && process.arch === 'x64';
const manifestPath = path.join(PREBUILT_DIR, 'manifest.json');
const objdump = spawnSync('objdump', ['--version']).status === 0;
const scratch: string[] = [];

afterAll(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

/** A copy of native/ (sources, prebuilt.mjs, the prebuilt folder) whose prebuiltStatus can be tampered with. */
async function copyOfNative() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'saeboard-prebuilt-'));
  scratch.push(dir);
  const native = path.join(PROJECT_ROOT, 'native');
  for (const f of ['binding.gyp', 'prebuilt.mjs']) cpSync(path.join(native, f), path.join(dir, f));
  for (const d of [...NATIVE_SOURCE_DIRS, 'prebuilt']) cpSync(path.join(native, d), path.join(dir, d), { recursive: true });
  const mod = (await import(pathToFileURL(path.join(dir, 'prebuilt.mjs')).href)) as typeof import('../../native/prebuilt.mjs');
  return { dir, mod };
}

describe.runIf(here)('prebuilt native addons (linux-x64)', () => {
  it('were built from this checkout\'s native sources with the own SGEMM (else: npm run build:prebuilt)', () => {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    expect(manifest.sourceHash, 'native/ changed since the prebuilt addons were made: run npm run build:prebuilt and commit native/prebuilt').toBe(nativeSourceHash());
    expect([manifest.platform, manifest.arch, manifest.blas]).toEqual(['linux', 'x64', 'own']);
    expect(manifest.glibc).toMatch(/^2\.\d+$/);
  });

  it.runIf(objdump)('need only libc and libm, and no glibc newer than the manifest says', () => {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    for (const f of PREBUILT_FILES) {
      const file = path.join(PREBUILT_DIR, f);
      const needed = [...spawnSync('objdump', ['-p', file], { encoding: 'utf8' }).stdout.matchAll(/NEEDED\s+(\S+)/g)].map((m) => m[1]);
      expect(needed.length).toBeGreaterThan(0);
      for (const lib of needed) expect(lib, f).toMatch(/^(libc|libm|libpthread|libdl)\.so\.\d+$/);
      const versions = [...spawnSync('objdump', ['-T', file], { encoding: 'utf8' }).stdout.matchAll(/GLIBC_2\.(\d+)/g)].map((m) => Number(m[1]));
      expect(Math.max(...versions), f).toBe(Number(manifest.glibc.split('.')[1]));
    }
  });

  it('are refused with the reason when the sources changed or the glibc is older than they need', async () => {
    const { dir, mod } = await copyOfNative();
    expect(mod.prebuiltStatus()).toMatchObject({ ok: true, dir: path.join(dir, 'prebuilt', 'linux-x64') });
    appendFileSync(path.join(dir, 'gemm', 'own_sgemm.c'), '\n/* changed */\n');
    expect(mod.prebuiltStatus()).toEqual({ ok: false, reason: 'the prebuilt native kernels are older than native/ (npm run build:prebuilt rebuilds them)' });
    cpSync(path.join(PROJECT_ROOT, 'native', 'gemm', 'own_sgemm.c'), path.join(dir, 'gemm', 'own_sgemm.c'));
    expect(mod.prebuiltStatus().ok).toBe(true);
    const manifest = path.join(dir, 'prebuilt', 'linux-x64', 'manifest.json');
    writeFileSync(manifest, JSON.stringify({ ...JSON.parse(readFileSync(manifest, 'utf8')), glibc: '2.999' }));
    expect(mod.prebuiltStatus()).toEqual({ ok: false, reason: `the prebuilt native kernels need glibc ≥ 2.999 (this system has ${runtimeGlibc()})` });
    rmSync(path.join(dir, 'prebuilt', 'linux-x64', 'saeboard_sae.node'));
    expect(mod.prebuiltStatus()).toEqual({ ok: false, reason: 'no prebuilt native kernels for linux-x64' });
  });

  it('are what saeboard runs without a local build: doctor names the path and the one command for OpenBLAS', () => {
    expect(prebuiltStatus().ok).toBe(true);
    const r = spawnSync(process.execPath, ['--import', TSX, path.join(PROJECT_ROOT, 'src/cli/main.ts'), 'doctor', '--json', '--rows', '64', '--reps', '1'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, SAEBOARD_LOG_LEVEL: 'warn', SAEBOARD_PREBUILT: 'only' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.backend.name).toBe('wasm+native');
    expect(out.backend.kernels).toMatch(/^own-sgemm\(BatchMatMul,_FusedMatMul,/);
    expect(out.backend.detail).toContain('prebuilt addon (native/prebuilt: no local build)');
    expect(out.path).toBe('native-own-sgemm');
    expect(out.label).toMatch(/^native addon, prebuilt in native\/prebuilt, own SGEMM \(own-\w+\), 1 threads?$/);
    expect(out.best).toBe(false);
    expect(out.fix).toMatch(/npm run build:native$/); // this machine has a compiler: build it here
    expect(out.sgemm[1].what).toBe('raw sgemm, active addon (own SGEMM)');
  }, 150_000);
});

describe('SAEBOARD_PREBUILT', () => {
  it('off still loads the local build; only with SAEBOARD_NATIVE=off loads nothing; a bad value is one readable error', () => {
    const script = `
      const { loadNative } = await import(${JSON.stringify(pathToFileURL(path.join(PROJECT_ROOT, 'src/tensor/kernels/native.ts')).href)});
      const n = loadNative();
      process.stdout.write(JSON.stringify(n.addon ? { path: n.path, prebuilt: n.prebuilt } : { reason: n.reason }));`;
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['--import', TSX, '--input-type=module', '-e', script], { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
    if (existsSync(NATIVE_ADDON_PATH)) {
      const off = run({ SAEBOARD_PREBUILT: 'off', SAEBOARD_NATIVE_PATH: '' });
      expect(off.status, off.stderr).toBe(0);
      expect(JSON.parse(off.stdout)).toEqual({ path: NATIVE_ADDON_PATH, prebuilt: false });
    }
    const onlyOff = run({ SAEBOARD_PREBUILT: 'only', SAEBOARD_NATIVE: 'off' });
    expect(JSON.parse(onlyOff.stdout)).toEqual({ reason: 'disabled by SAEBOARD_NATIVE=off' });
    const bad = spawnSync(process.execPath, ['--import', TSX, path.join(PROJECT_ROOT, 'src/cli/main.ts'), 'doctor'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, SAEBOARD_PREBUILT: 'sometimes' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toBe('saeboard: error: SAEBOARD_PREBUILT must be auto, only or off, got "sometimes"');
  }, 120_000);
});
