/**
 * `saeboard doctor` as a user runs it (a child process from source): the compute path it reports
 * is the one the addon in this checkout really is (asked here of the same addon file), its SGEMM
 * figure is measured, and without the native addon it names the one command that gets it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NATIVE_ADDON_PATH, type NativeAddon } from '../../src/tensor/kernels/native.js';
import { PROJECT_ROOT } from '../../src/version.js';

const TSX = import.meta.resolve('tsx');

function doctor(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', TSX, path.join(PROJECT_ROOT, 'src/cli/main.ts'), 'doctor', ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, SAEBOARD_LOG_LEVEL: 'warn', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return r;
}

describe('saeboard doctor', () => {
  it.skipIf(!existsSync(NATIVE_ADDON_PATH))('reports the loaded addon\'s path (OpenBLAS or own SGEMM) with a measured SGEMM', () => {
    const r = doctor(['--json', '--rows', '128', '--reps', '2']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const addon = createRequire(import.meta.url)(NATIVE_ADDON_PATH) as NativeAddon;
    const info = addon.info();
    // an OpenBLAS build whose calls SAEBOARD_GEMM=auto sends to the own SGEMM (its AVX-512 kernel
    // over an AVX2 OpenBLAS core) reports that path, with the switch back
    const switched = info.blas !== 'own' && info.gemm === 'own';
    const expected = info.blas === 'own' || switched ? 'native-own-sgemm' : 'native-openblas';
    expect(out.path).toBe(expected);
    expect(out.backend.name).toBe('wasm+native');
    expect(out.label).toContain(info.corename);
    // an OpenBLAS build: the best path unless the other GEMM measured faster here by 10 % (then
    // the switch to it); an own-SGEMM build: the command that builds the OpenBLAS one
    if (info.blas !== 'own') {
      expect(out.label).toContain(switched ? `SAEBOARD_GEMM=auto: its ${info.ownKernel} kernel over OpenBLAS's ${info.corename} core` : 'OpenBLAS');
      const otherFaster = switched ? out.ownVsBlas > 1.1 : out.ownVsBlas < 0.9;
      expect(out.best).toBe(!otherFaster);
      expect(out.fix).toBe(otherFaster ? (switched ? 'export SAEBOARD_GEMM=openblas' : 'export SAEBOARD_GEMM=own') : null);
    } else {
      expect(out.best).toBe(false);
      expect(out.fix).toMatch(/npm run build:native/);
    }
    // tf.matMul on the backend, and the addon's raw sgemm (an OpenBLAS build: on OpenBLAS and on its own SGEMM)
    expect(out.sgemm.length).toBe(info.blas !== 'own' ? 3 : 2);
    if (info.blas !== 'own') expect(out.ownVsBlas).toBeCloseTo(out.sgemm[2].msMin / out.sgemm[1].msMin, 1);
    for (const f of out.sgemm) {
      expect([f.M, f.N, f.K]).toEqual([128, 4096, 512]);
      expect(f.msMin).toBeGreaterThan(0);
      expect(f.msMedian).toBeGreaterThanOrEqual(f.msMin);
      expect(f.gflops).toBeCloseTo((2 * 128 * 4096 * 512) / (f.msMin / 1000) / 1e9, -1);
    }
    expect(out.summary).toMatch(/^compute path: /);
  }, 180_000);

  it('without the native addon: the wasm path, not the best, and the one command that gets the best', () => {
    const r = doctor(['--rows', '32', '--reps', '1'], { SAEBOARD_NATIVE: 'off' });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^compute path: tfjs wasm \(SIMD\), large matmuls on saeboard's wasm SGEMM on 1 thread, no native addon/); // 1 thread: VITEST
    expect(lines[1]).toMatch(/tf\.matMul on wasm\+js: 32×512 · 512×4096 in [\d.]+ ms/);
    expect(lines[lines.length - 1]).toMatch(/^best path: run `.*npm run build:native`/);
  }, 180_000);

  it('a --compare build that does not load is one readable error line, exit 1', () => {
    const r = doctor(['--compare', '/nonexistent/addon.node', '--rows', '16', '--reps', '1']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^saeboard: error: --compare: cannot load \/nonexistent\/addon\.node/);
  }, 180_000);
});
