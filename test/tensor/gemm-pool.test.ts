/**
 * The matmul pool of the no-compiler path (wasm+js): large products on saeboard's wasm SGEMM, split
 * by rows, columns or K over the caller and a worker thread, all on one shared memory. Against the
 * same SGEMM on one thread (bit for bit: each row or column block is computed as in the whole
 * product) and a float64 reference, for every transpose form, a fused bias + activation, and
 * products the pool must leave to tfjs' kernels; no leaked tensors; after the pool stops, tfjs'
 * kernels compute the same products; and a fresh process on wasm+js with 2 threads starts the pool
 * and says so.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tensor/backend.js';
import { chooseSplit, gemmPool, MIN_POOL_WORK, SPARSE_MAX_DENSITY, startGemmPool, stopGemmPool } from '../../src/tensor/kernels/gemm_pool.js';
import { installedMatMulKernels, installMatMulKernels, type MatMulKernelSet } from '../../src/tensor/kernels/matmul.js';
import { loadNative } from '../../src/tensor/kernels/native.js';
import { resolveTrainerConfig } from '../../src/sae/index.js';
import { maskedMatMulT, topKMask } from '../../src/sae/ops.js';
import { createTrainer } from '../../src/sae/trainers/index.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { maxRelativeError, randomArray, refMatMul, seededRandom } from './reference.js';

const native = loadNative();
let initial: MatMulKernelSet = 'stock';

beforeAll(async () => {
  await initBackend();
  initial = installedMatMulKernels();
  installMatMulKernels('js');
}, 60_000);

afterAll(async () => {
  await stopGemmPool();
  installMatMulKernels(initial, native.addon);
});

// ≈ 2·10⁷ multiply-adds: above MIN_POOL_WORK; odd sizes so the split is uneven. C taller than
// wide is split by rows, C wider than tall by columns.
const TALL = [301, 256, 261] as const;
const WIDE = [131, 256, 517] as const;
// K the longest axis: split along K, the partial products summed (so not bit-identical)
const DEEP = [131, 601, 257] as const;
let [M, K, N]: readonly number[] = TALL;

function operands(transA: boolean, transB: boolean) {
  const aData = randomArray(M * K, 1);
  const bData = randomArray(K * N, 2);
  const a = tf.tensor2d(aData, transA ? [K, M] : [M, K]);
  const b = tf.tensor2d(bData, transB ? [N, K] : [K, N]);
  const r = refMatMul(aData, a.shape, bData, b.shape, transA, transB);
  // errors relative to Σ_k |a_ik|·|b_kj|: what float32 rounding scales with
  return { a, b, ref: r.values, scale: Array.from(r.scale, (v) => Math.max(v, 1e-30)) };
}

describe('gemm pool (wasm+js)', () => {
  it.each([
    ['by rows', TALL, true],
    ['by columns', WIDE, true],
    ['along K', DEEP, false],
  ] as const)('splits large products of every transpose form %s, right against float64 (and bit-identical to one thread when not along K)', async (_, shape, exact) => {
    expect(chooseSplit(shape[0], shape[2], shape[1])).toBe(shape === TALL ? 'rows' : shape === WIDE ? 'cols' : 'k');
    expect((await startGemmPool(1)).threads).toBe(1); // the wasm SGEMM on the caller alone
    [M, K, N] = shape;
    expect(M * N * K).toBeGreaterThanOrEqual(MIN_POOL_WORK);
    const forms: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];
    const single = forms.map(([ta, tb]) => {
      const { a, b } = operands(ta, tb);
      const c = tf.matMul(a, b, ta, tb);
      const out = c.dataSync().slice();
      tf.dispose([a, b, c]);
      return out;
    });
    const pool = await startGemmPool(2);
    expect(pool?.threads).toBe(2);
    expect(gemmPool()).toBe(pool);
    for (const [i, [ta, tb]] of forms.entries()) {
      const { a, b, ref, scale } = operands(ta, tb);
      const before = tf.memory().numTensors;
      const c = tf.matMul(a, b, ta, tb);
      expect(c.shape).toEqual([M, N]);
      const got = c.dataSync();
      if (exact) expect(Array.from(got), `transA ${ta}, transB ${tb}`).toEqual(Array.from(single[i]));
      expect(maxRelativeError(got, ref, scale)).toBeLessThan(1e-5);
      c.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([a, b]);
    }
  }, 60_000);

  /** [rows, cols] values with `perRow` nonzeros a row at seeded places (a top-k SAE's f), the rest zeros. */
  function sparseArray(rows: number, cols: number, perRow: number, seed: number): Float32Array {
    const values = randomArray(rows * cols, seed);
    const rnd = seededRandom(seed + 1);
    const out = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let j = 0; j < perRow; j++) {
      const at = r * cols + Math.floor(rnd() * cols);
      out[at] = values[at];
    }
    return out;
  }

  it.each([
    // [what, M, K, N, transA, transB, sparse operand, expected path]
    ['f·W_dec: a sparse op(A)', 300, 1024, 96, false, false, 'a', 'sparse-a'],
    ['fᵀ·dX: a sparse op(A), A transposed', 1024, 300, 96, true, false, 'a', 'sparse-a'],
    ['xᵀ·f: a sparse op(B), A transposed', 96, 300, 1024, true, false, 'b', 'sparse-b'],
    ['xᵀ·fᵀ: a sparse op(B) transposed, A transposed', 96, 300, 1024, true, true, 'b', 'sparse-b'],
    ['x·fᵀ: a sparse op(B), A not transposed (dense, along K)', 96, 1024, 300, false, true, 'b', 'k'],
    ['a sparse op(A) with op(B) transposed (dense, along K)', 300, 1024, 96, false, true, 'a', 'k'],
  ] as const)('computes products with a sparse operand: %s', async (_, m, k, n, ta, tb, which, path) => {
    const pool = gemmPool() ?? (await startGemmPool(2));
    // 4 nonzeros a row of the sparse operand as stored: ≤ 1/16 of its entries
    const aShape = ta ? [k, m] : [m, k];
    const bShape = tb ? [n, k] : [k, n];
    const aData = which === 'a' ? sparseArray(aShape[0], aShape[1], Math.max(1, aShape[1] >> 6), 5) : randomArray(m * k, 5);
    const bData = which === 'b' ? sparseArray(bShape[0], bShape[1], Math.max(1, bShape[1] >> 6), 6) : randomArray(k * n, 6);
    const a = tf.tensor2d(aData, aShape as [number, number]);
    const b = tf.tensor2d(bData, bShape as [number, number]);
    const r = refMatMul(aData, aShape, bData, bShape, ta, tb);
    const c = tf.matMul(a, b, ta, tb);
    expect(pool.lastPath).toBe(path);
    expect(c.shape).toEqual([m, n]);
    expect(maxRelativeError(c.dataSync(), r.values, Array.from(r.scale, (v) => Math.max(v, 1e-30)))).toBeLessThan(1e-5);
    tf.dispose([a, b, c]);
  });

  it('keeps an operand just over 1/16 nonzero on the dense path', async () => {
    const pool = gemmPool() ?? (await startGemmPool(2));
    const [m, k, n] = [300, 1024, 96];
    const aData = sparseArray(m, k, Math.ceil(k * SPARSE_MAX_DENSITY * 1.5), 7);
    const a = tf.tensor2d(aData, [m, k]);
    const b = tf.tensor2d(randomArray(k * n, 8), [k, n]);
    const c = tf.matMul(a, b);
    expect(pool.lastPath).toBe('k');
    const r = refMatMul(aData, [m, k], b.dataSync(), [k, n], false, false);
    expect(maxRelativeError(c.dataSync(), r.values, Array.from(r.scale, (v) => Math.max(v, 1e-30)))).toBeLessThan(1e-5);
    tf.dispose([a, b, c]);
  });

  it('computes (A·Bᵀ) ⊙ mask for a sparse mask as dot products on the pool, and a denser mask through the product', async () => {
    const pool = gemmPool() ?? (await startGemmPool(2));
    const [m, k, n] = [70, 33, 300];
    const a = tf.tensor2d(randomArray(m * k, 21), [m, k]);
    const b = tf.tensor2d(randomArray(n * k, 22), [n, k]);
    for (const [perRow, path] of [[4, 'masked'], [60, 'k']] as const) {
      const maskData = sparseArray(m, n, perRow, 23).map((v) => (v !== 0 ? 1 : 0));
      const mask = tf.tensor2d(maskData, [m, n]);
      const before = tf.memory().numTensors;
      const c = maskedMatMulT(a as tf.Tensor2D, b as tf.Tensor2D, mask as tf.Tensor2D);
      expect(tf.memory().numTensors).toBe(before + 1);
      if (path === 'masked') expect(pool.lastPath).toBe('masked');
      const r = refMatMul(a.dataSync(), [m, k], b.dataSync(), [n, k], false, true);
      const want = Array.from(r.values, (v, i) => v * maskData[i]);
      expect(maxRelativeError(c.dataSync(), want, Array.from(r.scale, (v) => Math.max(v, 1e-30)))).toBeLessThan(1e-5);
      tf.dispose([mask, c]);
    }
    tf.dispose([a, b]);
  });

  it('masks each row\'s top k on the pool as the tfjs ops do (and on the host without a pool)', async () => {
    const post = tf.relu(tf.tensor2d(randomArray(96 * 2048, 51), [96, 2048])) as tf.Tensor2D;
    const composed = tf.tidy(() => {
      const { values } = tf.topk(post, 16, false);
      return tf.cast(tf.greaterEqual(post, tf.min(values, 1, true)), 'float32');
    });
    const pool = gemmPool() ?? (await startGemmPool(2));
    pool.lastPath = null;
    const onPool = topKMask(post, 16);
    expect(pool.lastPath).toBe('topk');
    expect(Array.from(onPool.dataSync())).toEqual(Array.from(composed.dataSync()));
    await stopGemmPool();
    const onHost = topKMask(post, 16);
    expect(Array.from(onHost.dataSync())).toEqual(Array.from(composed.dataSync()));
    await startGemmPool(2);
    tf.dispose([post, composed, onPool, onHost]);
  });

  it.each(['top_k', 'batch_top_k'])('%s: the tfjs step on wasm+js (dPost by the masked product) matches the same step on the other kernels', async (name) => {
    const cfg = resolveTrainerConfig({ trainer: name, dIn: 32, dictSize: 512, batchSize: 64, steps: 20, warmupSteps: 0, k: 8 });
    const x = tf.tensor2d(randomArray(64 * 32, 31), [64, 32]);
    const run = () => {
      const trainer = createTrainer(cfg);
      const losses = [0, 1, 2].map(() => trainer.update(x).loss);
      const w = trainer.dictionary.toHost().W_dec.data.slice();
      trainer.dispose();
      return { losses, w };
    };
    process.env.SAEBOARD_SAE_ENGINE = 'tfjs';
    try {
      const pool = gemmPool() ?? (await startGemmPool(2));
      pool.lastPath = null;
      const onPool = run();
      expect(pool.lastPath).toBe('masked');
      installMatMulKernels(initial, native.addon);
      const other = run();
      installMatMulKernels('js');
      onPool.losses.forEach((l, i) => expect(Math.abs(l - other.losses[i]) / Math.max(1, Math.abs(other.losses[i])), `step ${i}`).toBeLessThan(1e-5));
      let maxDiff = 0;
      for (let i = 0; i < onPool.w.length; i++) maxDiff = Math.max(maxDiff, Math.abs(onPool.w[i] - other.w[i]));
      expect(maxDiff).toBeLessThan(1e-5);
    } finally {
      delete process.env.SAEBOARD_SAE_ENGINE;
      x.dispose();
    }
  });

  it.each([['columns', WIDE], ['K', DEEP]] as const)('applies a fused bias and activation after a product split by %s', async (_, shape) => {
    if (!gemmPool()) await startGemmPool(2);
    [M, K, N] = shape;
    const { a, b, ref, scale } = operands(false, false);
    const biasData = randomArray(N, 3);
    const bias = tf.tensor1d(biasData);
    const c = tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias, activation: 'relu' });
    const expected = Array.from(ref, (v, i) => Math.max(v + biasData[i % N], 0));
    expect(maxRelativeError(c.dataSync(), expected, scale)).toBeLessThan(1e-5);
    tf.dispose([a, b, bias, c]);
  });

  it('leaves small and batched products to the calling thread, with the same results', async () => {
    if (!gemmPool()) await startGemmPool(2);
    const small = [tf.tensor2d(randomArray(8 * 5, 4), [8, 5]), tf.tensor2d(randomArray(5 * 3, 5), [5, 3])];
    const c = tf.matMul(small[0], small[1]);
    const ref = refMatMul(small[0].dataSync(), [8, 5], small[1].dataSync(), [5, 3], false, false).values;
    expect(maxRelativeError(c.dataSync(), ref, Array.from(ref, () => 1))).toBeLessThan(1e-5);
    const batched = tf.matMul(tf.stack([small[0], small[0]]), tf.stack([small[1], small[1]]));
    expect(Array.from(batched.dataSync().slice(0, 24))).toEqual(Array.from(c.dataSync()));
    tf.dispose([...small, c, batched]);
  });

  it('stops cleanly and tfjs\' own kernels take the products again', async () => {
    await stopGemmPool();
    expect(gemmPool()).toBeNull();
    const { a, b, ref, scale } = operands(false, true);
    const c = tf.matMul(a, b, false, true);
    expect(maxRelativeError(c.dataSync(), ref, scale)).toBeLessThan(1e-5);
    tf.dispose([a, b, c]);
  });

  it('a fresh process on wasm+js with 2 threads starts the pool and reports it', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, SAEBOARD_LOG_LEVEL: 'silent', SAEBOARD_NATIVE: 'off', SAEBOARD_THREADS: '2' };
    delete env.SAEBOARD_BACKEND;
    const script = path.join(PROJECT_ROOT, 'test', 'tensor', 'fixtures', 'print-backend.ts');
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: PROJECT_ROOT, env, encoding: 'utf8', timeout: 60_000 });
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
    expect(out.ok, r.stderr).toBe(true);
    expect(out.info.name).toBe('wasm+js');
    expect(out.info.threads).toBe(2);
    expect(out.info.kernels).toBe('wasm-sgemm(BatchMatMul,_FusedMatMul)');
    expect(out.info.detail).toMatch(/large matmuls on saeboard's wasm SGEMM, split over 2 threads \(worker pool\)/);
    expect(out.product).toEqual([1, 9, 2, 12]);
  }, 60_000);
});
