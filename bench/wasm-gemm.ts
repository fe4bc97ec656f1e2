/**
 * The GEMMs of an install without the native addon: saeboard's wasm SGEMM pool
 * (src/tensor/kernels/gemm_pool.ts) on 2 threads and on 1, against tfjs-backend-wasm's XNNPACK
 * (the `js` kernel set without the pool: explicit transposes, then the stock A·B, one thread), on
 * the SAE shapes, interleaved (A, B, C, A, …) in one run; and the sparse products of a top-k SAE
 * (f with 64 of 4,096 entries nonzero per row): f·W_dec, fᵀ·dx̂, xᵀ·f and the masked dPost.
 *
 *   npm run bench -- wasm-gemm [--reps 5] [--quick]
 *
 * The pool sides include copying the operands into its shared memory and C out, as in use. GFLOPS
 * are dense-equivalent (2·M·N·K / time) for every side, so a sparse product's figure is its
 * speed-up over a dense product of the same shape, not arithmetic done.
 */
import { COMPARE_REPS, loadFields, sideSummary, type Bench, type Side } from './harness.js';
import { initBackend, tf } from '../src/tensor/backend.js';
import { GemmPool, stopGemmPool } from '../src/tensor/kernels/gemm_pool.js';
import { installedMatMulKernels, installMatMulKernels } from '../src/tensor/kernels/matmul.js';
import { loadNative } from '../src/tensor/kernels/native.js';

interface Case {
  name: string;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  /** which operand is a top-k SAE's f (k of its columns nonzero per row), or a masked product */
  sparse?: 'a' | 'b' | 'masked';
}

const B = 2048;
const D = 512;
const F = 4096;
const TOPK = 64;
const CASES: Case[] = [
  { name: 'sae encoder x·W_enc', M: B, N: F, K: D, transA: false, transB: false },
  { name: 'sae encoder x·W_decᵀ', M: B, N: F, K: D, transA: false, transB: true },
  { name: 'sae decoder f·W_dec (dense f)', M: B, N: D, K: F, transA: false, transB: false },
  { name: 'sae dW_enc = xᵀ·dPre', M: D, N: F, K: B, transA: true, transB: false },
  { name: 'sae dW_dec = fᵀ·dx̂', M: F, N: D, K: B, transA: true, transB: false },
  { name: 'top-k decoder f·W_dec', M: B, N: D, K: F, transA: false, transB: false, sparse: 'a' },
  { name: 'top-k dW_dec = fᵀ·dx̂', M: F, N: D, K: B, transA: true, transB: false, sparse: 'a' },
  { name: 'top-k dW_enc = xᵀ·dPre', M: D, N: F, K: B, transA: true, transB: false, sparse: 'b' },
  { name: 'top-k dPost = (dx̂·W_decᵀ) ⊙ mask', M: B, N: F, K: D, transA: false, transB: true, sparse: 'masked' },
];
const QUICK = new Set(['sae encoder x·W_enc', 'top-k decoder f·W_dec']);

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

function dense(n: number): Float32Array {
  return new Float32Array(n).map(() => Math.random() - 0.5);
}

/** A top-k SAE's f ([rows, cols], k nonzeros a row), or its 0/1 mask. */
function topK(rows: number, cols: number, k: number, ones = false): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) out[r * cols + Math.floor(Math.random() * cols)] = ones ? 1 : Math.random();
  return out;
}

export default async function wasmGemm(h: Bench): Promise<void> {
  const reps = Number(h.option('reps', String(COMPARE_REPS)));
  const quick = h.args.includes('--quick');
  const info = await initBackend();
  // XNNPACK as the js kernel set runs it with no pool: the global pool off, the sides' pools private
  await stopGemmPool();
  const before = installedMatMulKernels();
  installMatMulKernels('js');
  const pools = { '2 threads': await GemmPool.start(2), '1 thread': await GemmPool.start(1) };
  try {
    for (const c of CASES.filter((x) => !quick || QUICK.has(x.name))) {
      const aStored = c.transA ? [c.K, c.M] : [c.M, c.K];
      const bStored = c.transB ? [c.N, c.K] : [c.K, c.N];
      // the sparse operand as stored: f is [B, F] whichever way the product reads it
      const aData = c.sparse === 'a' ? topK(aStored[0], aStored[1], c.transA ? TOPK * (aStored[1] / F) : TOPK) : dense(c.M * c.K);
      const bData = c.sparse === 'b' ? topK(bStored[0], bStored[1], TOPK) : dense(c.K * c.N);
      const maskData = c.sparse === 'masked' ? topK(c.M, c.N, TOPK, true) : null;
      const a = tf.tensor2d(aData, aStored as [number, number]);
      const b = tf.tensor2d(bData, bStored as [number, number]);
      const mask = maskData ? tf.tensor2d(maskData, [c.M, c.N]) : null;
      const out = new Float32Array(c.M * c.N);
      const paths: Record<string, string | null> = {};
      const sides: Side[] = Object.entries(pools).map(([name, pool]) => ({
        name: `wasm-sgemm ${name}`,
        step: () => {
          const ok = maskData
            ? pool.maskedMatMul({ M: c.M, N: c.N, K: c.K, a: aData, b: bData, mask: maskData, c: out })
            : pool.matMul({ M: c.M, N: c.N, K: c.K, transA: c.transA, transB: c.transB, a: aData, b: bData, c: out });
          if (!ok) throw new Error(`wasm-gemm: the pool refused ${c.name}`);
          paths[name] = pool.lastPath;
        },
      }));
      sides.push({
        name: 'xnnpack',
        step: () => {
          const t0 = performance.now();
          tf.tidy(() => (mask ? tf.mul(tf.matMul(a, b, c.transA, c.transB), mask) : tf.matMul(a, b, c.transA, c.transB))).dispose();
          return performance.now() - t0;
        },
      });
      const cmp = await h.compare(sides, { reps, warmup: 1 });
      tf.dispose([a, b, ...(mask ? [mask] : [])]);
      const gflops = (ms: number) => round((2 * c.M * c.N * c.K) / (ms * 1e6));
      const x = cmp.sides.xnnpack;
      const two = cmp.sides['wasm-sgemm 2 threads'];
      const one = cmp.sides['wasm-sgemm 1 thread'];
      h.record(c.name, {
        shape: { M: c.M, N: c.N, K: c.K, transA: c.transA, transB: c.transB, sparse: c.sparse ?? null, k: c.sparse ? TOPK : null },
        backend: info.name,
        path: paths['2 threads'] ?? null,
        wasmSgemm2: { ...sideSummary(two, 2), gflopsMedian: gflops(two.median) },
        wasmSgemm1: { ...sideSummary(one, 2), gflopsMedian: gflops(one.median) },
        xnnpack: { ...sideSummary(x, 2), gflopsMedian: gflops(x.median) },
        // > 1: the wasm SGEMM is faster (ratios of medians, interleaved in this run)
        speedup2VsXnnpack: round(x.median / two.median, 2),
        speedup1VsXnnpack: round(x.median / one.median, 2),
        scaling2Vs1: round(one.median / two.median, 2),
        order: 'interleaved',
        ...loadFields(cmp),
      });
    }
  } finally {
    await Promise.all(Object.values(pools).map((p) => p.close()));
    installMatMulKernels(before, loadNative().addon);
  }
}
