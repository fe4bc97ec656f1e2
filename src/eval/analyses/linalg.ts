/**
 * The two dense products the analyses need (decoder × decoder, decoder × probe directions), on
 * OpenBLAS through the native addon when it is built, else a blocked loop in JS. Same results up to
 * float32 rounding; F = 4096, d = 512 is 8.6 GFLOP, ~0.2 s on the addon and ~10 s in JS.
 */
import { loadNative } from '../../tensor/kernels/native.js';

/** C (m×n) = A (m×k) · Bᵀ (B is n×k), all row-major float32. */
export function matmulABt(A: Float32Array, m: number, k: number, B: Float32Array, n: number): Float32Array {
  const C = new Float32Array(m * n);
  if (m === 0 || n === 0) return C;
  if (k === 0) return C;
  const native = loadNative();
  if (native.addon) {
    native.addon.sgemm(false, true, m, n, k, A, 0, B, 0, C, 0);
    return C;
  }
  const BLOCK = 64;
  for (let i0 = 0; i0 < m; i0 += BLOCK) {
    const i1 = Math.min(m, i0 + BLOCK);
    for (let j0 = 0; j0 < n; j0 += BLOCK) {
      const j1 = Math.min(n, j0 + BLOCK);
      for (let i = i0; i < i1; i++) {
        const a = i * k;
        for (let j = j0; j < j1; j++) {
          const b = j * k;
          let s = 0;
          for (let t = 0; t < k; t++) s += A[a + t] * B[b + t];
          C[i * n + j] = s;
        }
      }
    }
  }
  return C;
}

/** C (m×n) = A (m×k) · B (k×n), row-major float32. */
export function matmulAB(A: Float32Array, m: number, k: number, B: Float32Array, n: number): Float32Array {
  const C = new Float32Array(m * n);
  if (m === 0 || n === 0 || k === 0) return C;
  const native = loadNative();
  if (native.addon) {
    native.addon.sgemm(false, false, m, n, k, A, 0, B, 0, C, 0);
    return C;
  }
  for (let i = 0; i < m; i++) {
    const c = i * n;
    for (let t = 0; t < k; t++) {
      const a = A[i * k + t];
      if (a === 0) continue;
      const b = t * n;
      for (let j = 0; j < n; j++) C[c + j] += a * B[b + j];
    }
  }
  return C;
}

/** Rows of `rows`×`d` scaled to unit L2 norm (zero rows stay zero); norms returned too. */
export function normalizeRows(x: Float32Array, rows: number, d: number): { unit: Float32Array; norms: Float32Array } {
  const unit = new Float32Array(rows * d);
  const norms = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let t = 0; t < d; t++) s += x[r * d + t] * x[r * d + t];
    const n = Math.sqrt(s);
    norms[r] = n;
    if (n > 0) for (let t = 0; t < d; t++) unit[r * d + t] = x[r * d + t] / n;
  }
  return { unit, norms };
}

/** The listed rows of a row-major matrix, packed. */
export function gatherRows(x: Float32Array, d: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * d);
  for (let i = 0; i < rows.length; i++) out.set(x.subarray(rows[i] * d, rows[i] * d + d), i * d);
  return out;
}
