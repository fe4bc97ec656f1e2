/**
 * The two native builds give the same results: the default one (OpenBLAS when libopenblas links,
 * else saeboard's own SGEMM, native/gemm/own_sgemm.c) and the other variant, which this test
 * builds into a temporary directory with scripts/build-native.mjs --out (the default build in
 * native/build is left alone) — the own variant the way a machine without libopenblas-dev gets it
 * (--blas=auto with SAEBOARD_PRETEND_NO_OPENBLAS=1). Compared: the raw sgemm in every transpose form and with edge tiles,
 * the fused SAE steps (standard, top-k: losses and weights after three steps) and a GPT forward;
 * the steps and the forward also on the committed prebuilt addons (native/prebuilt). Skipped when there is no C compiler or when only one variant can be built (no libopenblas).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREBUILT_DIR, prebuiltStatus } from '../../native/prebuilt.mjs';
import { localAddonPath, NATIVE_ADDON_PATH, type NativeAddon } from '../../src/tensor/kernels/native.js';
import { PROJECT_ROOT } from '../../src/version.js';

const TSX = import.meta.resolve('tsx');
const DEFAULT_SAE = localAddonPath('saeboard_sae');
const req = createRequire(import.meta.url);
const defaultAddon = existsSync(NATIVE_ADDON_PATH) ? (req(NATIVE_ADDON_PATH) as NativeAddon) : null;
const defaultBlas = defaultAddon?.info().blas ?? 'openblas';
// the other variant: own SGEMM next to an OpenBLAS default, OpenBLAS next to an own-SGEMM default
const otherVariant = defaultBlas === 'own' ? 'openblas' : 'none';
const compiler = spawnSync('cc', ['--version']).status === 0 || spawnSync('gcc', ['--version']).status === 0;
const openblasLinks =
  compiler && spawnSync('cc', ['-x', 'c', '-', '-o', '/dev/null', '-lopenblas'], { input: 'extern void cblas_sgemm(void); int main(void) { cblas_sgemm(); return 0; }\n' }).status === 0;
const canRun = Boolean(defaultAddon) && compiler && (otherVariant === 'none' || openblasLinks);

let dir = '';
let other: { native: string; sae: string } | null = null;

beforeAll(() => {
  if (!canRun) return;
  dir = mkdtempSync(path.join(os.tmpdir(), 'saeboard-native-variant-'));
  const before = readFileSync(NATIVE_ADDON_PATH);
  // the own variant as a fresh machine without libopenblas-dev gets it: --blas=auto finds no OpenBLAS
  const blasArg = otherVariant === 'none' ? 'auto' : 'openblas';
  const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'build-native.mjs'), `--blas=${blasArg}`, `--out=${dir}`, '--force'], {
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, SAEBOARD_PRETEND_NO_OPENBLAS: otherVariant === 'none' ? '1' : '' },
  });
  expect(r.status, r.stdout + r.stderr).toBe(0);
  if (otherVariant === 'none') {
    // one line: the own SGEMM was built, and the one command for OpenBLAS
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(/^saeboard: native kernels built with saeboard's own SGEMM \(own-\w+, \d+ threads\) \+ fused SAE step: libopenblas not found; for the fastest GEMMs: apt-get install libopenblas-dev && npm run build:native/);
  } else {
    expect(r.stdout, r.stdout).toMatch(/built: OpenBLAS/);
  }
  other = { native: path.join(dir, 'build', 'Release', 'saeboard_native.node'), sae: path.join(dir, 'build', 'Release', 'saeboard_sae.node') };
  // the default build was not touched
  expect(readFileSync(NATIVE_ADDON_PATH).equals(before)).toBe(true);
}, 320_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let scale = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]));
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst / Math.max(scale, 1e-30);
}

describe.skipIf(!canRun)('own SGEMM build vs OpenBLAS build', () => {
  it('reports which GEMM each build has', () => {
    const o = req(other!.native) as NativeAddon;
    const blas = [defaultAddon!.info().blas ?? 'openblas', o.info().blas ?? 'openblas'].sort();
    expect(blas).toEqual(['openblas', 'own']);
    const own = defaultAddon!.info().blas === 'own' ? defaultAddon! : o;
    expect(own.info().corename).toMatch(/^own-(avx512|avx2|generic)$/);
  });

  it('sgemm: same products in every transpose form, edge tiles, one and two threads', () => {
    const o = req(other!.native) as NativeAddon;
    const shapes = [
      [1, 1, 1],
      [7, 13, 5],
      [37, 61, 300],
      [130, 77, 513],
      [300, 200, 100],
      [256, 512, 64],
      // full micro-panels with a depth that is not a multiple of the 4×4 packing transposes,
      // and a second and third K slice of 512 + 512 + 6
      [50, 70, 23],
      [64, 96, 1030],
    ];
    for (const threads of [1, 2]) {
      defaultAddon!.setThreads(threads);
      o.setThreads(threads);
      for (const [M, N, K] of shapes) {
        for (const ta of [false, true]) {
          for (const tb of [false, true]) {
            const A = rand(M * K, M + K);
            const B = rand(K * N, N * 3 + K);
            const c1 = new Float32Array(M * N);
            const c2 = new Float32Array(M * N);
            const c3 = new Float32Array(M * N);
            // each build on its own GEMM: SAEBOARD_GEMM=openblas, or SAEBOARD_GEMM=auto would
            // send an OpenBLAS build's calls to the own SGEMM where OpenBLAS is held to AVX2
            process.env.SAEBOARD_GEMM = 'openblas';
            try {
              defaultAddon!.sgemm(ta, tb, M, N, K, A, 0, B, 0, c1, 0);
              o.sgemm(ta, tb, M, N, K, A, 0, B, 0, c2, 0);
              // every build links the own SGEMM too: SAEBOARD_GEMM=own switches to it per call
              process.env.SAEBOARD_GEMM = 'own';
              defaultAddon!.sgemm(ta, tb, M, N, K, A, 0, B, 0, c3, 0);
            } finally {
              delete process.env.SAEBOARD_GEMM;
            }
            const tol = 2e-6 * Math.sqrt(K) + 1e-6;
            expect(maxRelDiff(c1, c2), `${M}x${N}x${K} ta=${ta} tb=${tb} threads=${threads}`).toBeLessThan(tol);
            expect(maxRelDiff(c1, c3), `SAEBOARD_GEMM=own ${M}x${N}x${K} ta=${ta} tb=${tb} threads=${threads}`).toBeLessThan(tol);
          }
        }
      }
    }
    defaultAddon!.setThreads(1);
  });

  it('the fused SAE steps and a GPT forward: same losses, weights and logits', () => {
    const run = (native: string, sae: string, extra: Record<string, string> = {}) => {
      const r = spawnSync(process.execPath, ['--import', TSX, path.join(PROJECT_ROOT, 'test', 'tensor', 'fixtures', 'native-parity.ts')], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, SAEBOARD_NATIVE_PATH: native, SAEBOARD_SAE_NATIVE_PATH: sae, SAEBOARD_LOG_LEVEL: 'warn', SAEBOARD_BACKEND: 'wasm+native', ...extra },
        encoding: 'utf8',
        timeout: 180_000,
      });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout.trim().split('\n').pop()!) as {
        blas: string;
        prebuilt: boolean;
        path: string;
        sae: Record<string, { losses: number[]; weights: Record<string, number[]> }>;
        logits: number[];
      };
    };
    const a = run(NATIVE_ADDON_PATH, DEFAULT_SAE);
    const b = run(other!.native, other!.sae);
    // the default build on the own SGEMM (SAEBOARD_GEMM=own), and its top-k
    // backward with dense GEMMs instead of the sparse products (SAEBOARD_SAE_SPARSE=0)
    const c = run(NATIVE_ADDON_PATH, DEFAULT_SAE, { SAEBOARD_GEMM: 'own' });
    // and on OpenBLAS whatever SAEBOARD_GEMM=auto picks here (the default, a, may be the own SGEMM)
    const ob = run(NATIVE_ADDON_PATH, DEFAULT_SAE, { SAEBOARD_GEMM: 'openblas' });
    const dense = run(NATIVE_ADDON_PATH, DEFAULT_SAE, { SAEBOARD_SAE_SPARSE: '0' });
    // the own SGEMM's other micro-kernels (what machines without AVX-512 run), forced
    const avx2 = run(NATIVE_ADDON_PATH, DEFAULT_SAE, { SAEBOARD_GEMM: 'own', SAEBOARD_SGEMM_KERNEL: 'avx2' });
    const generic = run(NATIVE_ADDON_PATH, DEFAULT_SAE, { SAEBOARD_GEMM: 'own', SAEBOARD_SGEMM_KERNEL: 'generic' });
    expect([a.blas, b.blas].sort()).toEqual(['openblas', 'own']);
    expect([a.prebuilt, b.prebuilt]).toEqual([false, false]);
    // the committed prebuilt addons (native/prebuilt), as an install without a compiler loads them
    const prebuilt = prebuiltStatus().ok ? run('', '', { SAEBOARD_PREBUILT: 'only' }) : null;
    if (prebuilt) {
      expect(prebuilt.prebuilt).toBe(true);
      expect(prebuilt.path).toBe(path.join(PREBUILT_DIR, 'saeboard_native.node'));
      expect(prebuilt.blas).toBe('own');
    }
    const variants = [
      ...(prebuilt ? [['prebuilt addons (native/prebuilt)', prebuilt] as const] : []),
      ['other build', b],
      ['SAEBOARD_GEMM=own (tfjs matmuls and the SAE step)', c],
      ['SAEBOARD_GEMM=openblas', ob],
      ['dense top-k backward', dense],
      ['own SGEMM, AVX2 kernel', avx2],
      ['own SGEMM, plain C kernel', generic],
    ] as const;
    for (const [label, other] of variants) {
      for (const trainer of ['standard', 'top_k']) {
        const sa = a.sae[trainer];
        const sb = other.sae[trainer];
        expect(maxRelDiff(sa.losses, sb.losses), `${label}: ${trainer} losses`).toBeLessThan(1e-4);
        for (const name of Object.keys(sa.weights)) {
          expect(maxRelDiff(sa.weights[name], sb.weights[name]), `${label}: ${trainer} ${name}`).toBeLessThan(1e-4);
        }
      }
      expect(maxRelDiff(a.logits, other.logits), `${label}: GPT logits`).toBeLessThan(1e-4);
    }
  }, 400_000);
});
