/**
 * Host-side initialisers matching the *distributions* of PyTorch's defaults used by
 * dictionary_learning (the draws themselves differ: different RNG).
 */
import type { Rng } from '../rng.js';

/** nn.Linear default weight/bias init: kaiming_uniform(a=√5) = U(−1/√fan_in, 1/√fan_in). */
export function linearDefault(rng: Rng, n: number, fanIn: number): Float32Array {
  const bound = 1 / Math.sqrt(fanIn);
  return rng.fillUniform(new Float32Array(n), -bound, bound);
}

/** Normalise each row of a [rows, cols] row-major matrix to unit L2 norm: w / (‖w‖ + eps). */
export function normalizeRowsHost(w: Float32Array, rows: number, cols: number, eps = 0): Float32Array {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    const o = r * cols;
    for (let c = 0; c < cols; c++) s += w[o + c] * w[o + c];
    const inv = 1 / (Math.sqrt(s) + eps);
    for (let c = 0; c < cols; c++) w[o + c] *= inv;
  }
  return w;
}

/** Transpose a [rows, cols] row-major matrix. */
export function transposeHost(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c];
  return out;
}

/** float32 machine epsilon (torch.finfo(float32).eps), used by set_decoder_norm_to_unit_norm. */
export const F32_EPS = 1.1920928955078125e-7;
