/**
 * Small tensor helpers shared by the SAE dictionaries and trainers (pure tfjs, any backend).
 */
import { backendInfo, tf } from '../tensor/backend.js';
import { MASKED_MATMUL_T_KERNEL, TOPK_MASK_KERNEL } from '../tensor/kernels/matmul.js';

/**
 * Matrix product with optional transposes. Stock tfjs-wasm runs the transposed GEMM variants
 * ~10-40x slower than the plain one (research/perf.md §3), so unless the backend has replaced the
 * matmul kernels we transpose explicitly (a cheap memory pass) and call the fast NN kernel.
 */
export function mm(a: tf.Tensor2D, b: tf.Tensor2D, transA = false, transB = false): tf.Tensor2D {
  if (!transA && !transB) return tf.matMul(a, b);
  if (kernelsHandleTransposes()) return tf.matMul(a, b, transA, transB);
  return tf.tidy(() => tf.matMul(transA ? tf.transpose(a) : a, transB ? tf.transpose(b) : b));
}

function kernelsHandleTransposes(): boolean {
  const info = backendInfo();
  if (!info) return false;
  return info.tfBackend !== 'wasm' || info.kernels !== 'none';
}

/** Row L2 norms of a 2-D tensor, shape [rows]. */
export function rowNorms(w_RC: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sqrt(tf.sum(tf.square(w_RC), 1)) as tf.Tensor1D);
}

/** Rows scaled to unit norm: w / (‖w‖ + eps). */
export function normalizeRows(w_RC: tf.Tensor2D, eps = 0): tf.Tensor2D {
  return tf.tidy(() => {
    const n = rowNorms(w_RC);
    return tf.div(w_RC, tf.expandDims(eps ? tf.add(n, eps) : n, 1));
  });
}

/**
 * `g - (g·u)u` per row, with u = w / (‖w‖ + eps) (or u = w when `normalize` is false, for rows
 * already normalised): removes the radial part of a row gradient.
 */
export function removeParallelRows(w_RC: tf.Tensor2D, g_RC: tf.Tensor2D, eps = 0, normalize = true): tf.Tensor2D {
  return tf.tidy(() => {
    const u = normalize ? normalizeRows(w_RC, eps) : w_RC;
    const dot = tf.sum(tf.mul(g_RC, u), 1, true);
    return tf.sub(g_RC, tf.mul(dot, u));
  });
}

/** 1 where t > 0, else 0, as float32 (tf.step: one pass, unlike greater + cast or where on wasm). */
export function positiveMask(t: tf.Tensor): tf.Tensor {
  return tf.step(t, 0);
}

/**
 * Column sums of a [B, C] matrix as [C]. Reductions over axis 0 transpose internally on wasm
 * (~10x slower than axis 1), so with native kernels this is a [1, B] × [B, C] product. Without
 * them (wasm+js) that product is slow too — XNNPACK repacks the whole [B, C] operand as weights:
 * 61 ms for [2048, 4096] — so the sums run on the host there (in double, one pass: ~13 ms). Not
 * differentiable; the trainers' gradients are written out by hand.
 */
export function colSum(t_BC: tf.Tensor2D): tf.Tensor1D {
  if (backendInfo()?.name === 'wasm+js') return hostColSum(t_BC);
  return tf.tidy(() => tf.reshape(mm(tf.ones([1, t_BC.shape[0]]) as tf.Tensor2D, t_BC), [t_BC.shape[1]]) as tf.Tensor1D);
}

/** colSum on the host (wasm+js); exported for its test. */
export function hostColSum(t_BC: tf.Tensor2D): tf.Tensor1D {
  const [B, C] = t_BC.shape;
  const v = t_BC.dataSync();
  const acc = new Float64Array(C);
  for (let b = 0; b < B; b++) {
    const row = b * C;
    for (let c = 0; c < C; c++) acc[c] += v[row + c];
  }
  return tf.tensor1d(Float32Array.from(acc));
}

export function colMean(t_BC: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.div(colSum(t_BC), t_BC.shape[0]) as tf.Tensor1D);
}

/**
 * (a·bᵀ) ⊙ mask, a [B, D], b [F, D], mask [B, F]: the backward's dPost = (dx̂·W_decᵀ) ⊙ mask of a
 * top-k SAE. On wasm+js a sparse mask (k of F per row) takes the wasm SGEMM pool's masked product,
 * a dot product per kept entry (~130 → ~18 ms for [2048, 512]·[512, 4096] at k 64); elsewhere the
 * dense product, masked. Not differentiable (the trainers' gradients are written by hand).
 */
export function maskedMatMulT(a_BD: tf.Tensor2D, b_FD: tf.Tensor2D, mask_BF: tf.Tensor2D): tf.Tensor2D {
  if (tf.getKernel(MASKED_MATMUL_T_KERNEL, tf.getBackend())) {
    return tf.engine().runKernel(MASKED_MATMUL_T_KERNEL, { a: a_BD, b: b_FD, mask: mask_BF }) as tf.Tensor2D;
  }
  return tf.tidy(() => tf.mul(mm(a_BD, b_FD, false, true), mask_BF) as tf.Tensor2D);
}

/** Set by native.ts when the fused SAE addon is loaded (a per-row quickselect, threaded). */
let topKMaskNative: ((v_BF: tf.Tensor2D, k: number) => tf.Tensor2D | null) | null = null;
export function setTopKMaskNative(fn: typeof topKMaskNative): void {
  topKMaskNative = fn;
}

/**
 * Mask of the k largest entries per row (ties at the k-th value may keep a few more; measure zero
 * for real-valued activations). Returned as float 0/1 [B, F].
 */
export function topKMask(v_BF: tf.Tensor2D, k: number): tf.Tensor2D {
  const native = topKMaskNative;
  if (native) {
    const out = native(v_BF, k);
    if (out) return out;
  }
  // wasm+js: a quickselect a row on the wasm SGEMM pool (src/tensor/kernels/matmul.ts)
  if (v_BF.dtype === 'float32' && tf.getKernel(TOPK_MASK_KERNEL, tf.getBackend())) {
    return tf.engine().runKernel(TOPK_MASK_KERNEL, { v: v_BF }, { k }) as tf.Tensor2D;
  }
  return tf.tidy(() => {
    const { values } = tf.topk(v_BF, k, false);
    const kth = tf.min(values, 1, true);
    // v ≥ kth as 1 − step(kth − v): wasm's broadcasting comparisons are pathologically slow
    return tf.sub(1, tf.step(tf.sub(kth, v_BF), 0)) as tf.Tensor2D;
  });
}

/** Geometric median by Weiszfeld iteration (dictionary_learning `geometric_median`): ≤ maxIter, tol on the step. */
export function geometricMedian(points_BD: tf.Tensor2D, maxIter = 100, tol = 1e-5): tf.Tensor1D {
  let guess = tf.mean(points_BD, 0) as tf.Tensor1D;
  for (let i = 0; i < maxIter; i++) {
    const prev = guess;
    const next = tf.tidy(() => {
      const dist = tf.sqrt(tf.sum(tf.square(tf.sub(points_BD, prev)), 1));
      const w = tf.div(1, dist);
      const wn = tf.div(w, tf.sum(w));
      return tf.sum(tf.mul(tf.expandDims(wn, 1), points_BD), 0) as tf.Tensor1D;
    });
    const moved = tf.tidy(() => tf.norm(tf.sub(next, prev)).dataSync()[0]);
    prev.dispose();
    guess = next;
    if (moved < tol) break;
  }
  return guess;
}

/** Host copy of a tensor's data as Float32Array. */
export function toHost(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}
