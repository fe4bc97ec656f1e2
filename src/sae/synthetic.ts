/**
 * Synthetic ground truth for checking that trainers recover a dictionary: activations are sparse
 * non-negative combinations of known unit vectors, x = Σ_{i∈S} a_i v_i. Used by tests, the CLI's
 * `sae synthetic` demo and as an in-memory activation source.
 */
import { Rng } from './rng.js';

export interface SyntheticDictionary {
  dIn: number;
  nFeatures: number;
  /** [nFeatures, dIn] unit rows. */
  vectors: Float32Array;
}

export function randomUnitDictionary(dIn: number, nFeatures: number, seed: number): SyntheticDictionary {
  const rng = new Rng(seed);
  const v = rng.fillNormal(new Float32Array(nFeatures * dIn));
  for (let r = 0; r < nFeatures; r++) {
    let s = 0;
    for (let c = 0; c < dIn; c++) s += v[r * dIn + c] ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let c = 0; c < dIn; c++) v[r * dIn + c] *= inv;
  }
  return { dIn, nFeatures, vectors: v };
}

export interface SparseSampleOptions {
  /** Active features per sample (exact). */
  active: number;
  /** Magnitudes uniform in [min, max]. */
  minMagnitude?: number;
  maxMagnitude?: number;
}

/** Fill `out` ([n, dIn]) with n samples; returns the RNG so streams can continue. */
export function sampleSparse(dict: SyntheticDictionary, n: number, rng: Rng, o: SparseSampleOptions, out = new Float32Array(n * dict.dIn)): Float32Array {
  const { dIn, nFeatures, vectors } = dict;
  const lo = o.minMagnitude ?? 0.5;
  const hi = o.maxMagnitude ?? 1.5;
  out.fill(0);
  const chosen = new Int32Array(o.active);
  for (let s = 0; s < n; s++) {
    for (let j = 0; j < o.active; j++) {
      let f: number;
      do f = rng.int(nFeatures);
      while (chosen.subarray(0, j).includes(f));
      chosen[j] = f;
      const a = lo + (hi - lo) * rng.next();
      const off = f * dIn;
      const o2 = s * dIn;
      for (let c = 0; c < dIn; c++) out[o2 + c] += a * vectors[off + c];
    }
  }
  return out;
}

/**
 * Mean over the true features of the best cosine similarity with any learnt dictionary row
 * ("mean max cosine similarity", MMCS). learnt: [m, dIn].
 */
export function meanMaxCosine(truth: SyntheticDictionary, learnt: Float32Array, m: number): number {
  const d = truth.dIn;
  const norms = new Float32Array(m);
  for (let j = 0; j < m; j++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += learnt[j * d + c] ** 2;
    norms[j] = Math.sqrt(s) || 1;
  }
  let total = 0;
  for (let i = 0; i < truth.nFeatures; i++) {
    let best = -1;
    for (let j = 0; j < m; j++) {
      let dot = 0;
      for (let c = 0; c < d; c++) dot += truth.vectors[i * d + c] * learnt[j * d + c];
      const cos = dot / norms[j];
      if (cos > best) best = cos;
    }
    total += best;
  }
  return total / truth.nFeatures;
}
