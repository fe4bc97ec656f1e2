/**
 * Alive features and per-feature maxima (metrics.md §2, [SBGE circuits/utils.py get_firing_features]).
 *
 * Over a sample of activation vectors (the paper: 500·ctx_len vectors from all token positions of
 * the D_train games, not only the labelled ones):
 *   firing rate_i = #{vectors with f_i ≠ 0} / #vectors,   alive_i = firing rate_i > 0,
 *   max_i = |max over the sample of f_i|   (the max includes the zeros of non-firing vectors).
 */
import { UserInputError } from '../errors.js';
import type { CsrActivations } from './sparse.js';

export interface FeatureMaxima {
  features: number;
  /** Number of activation vectors in the sample. */
  samples: number;
  /** |max_i| as float32 (what the thresholds multiply). */
  maxima: Float32Array;
  /** 1 = alive (fired at least once in the sample). */
  alive: Uint8Array;
  /** Firing count per feature (density = fireCount / samples). */
  fireCount: Int32Array;
  /** Number of alive features. */
  aliveCount: number;
}

export class FiringStats {
  private readonly rawMax: Float32Array;
  private readonly fire: Int32Array;
  private n = 0;

  constructor(readonly features: number) {
    this.rawMax = new Float32Array(features).fill(-Infinity);
    this.fire = new Int32Array(features);
  }

  get samples(): number {
    return this.n;
  }

  /** Add `rows` dense vectors (row-major rows × F). */
  addDense(block: Float32Array, rows: number): void {
    const F = this.features;
    const { rawMax, fire } = this;
    for (let r = 0; r < rows; r++) {
      const base = r * F;
      for (let f = 0; f < F; f++) {
        const v = block[base + f];
        if (v !== v) throw new UserInputError(`NaN activation in the feature-maximum sample (vector ${this.n + r}, feature ${f})`);
        if (v > rawMax[f]) rawMax[f] = v;
        if (v !== 0) fire[f]++;
      }
    }
    this.n += rows;
  }

  /** Add a CSR block (absent entries are zeros). */
  addCsr(csr: CsrActivations): void {
    const { rawMax, fire } = this;
    const { indices, values, indptr } = csr;
    for (let j = 0; j < indptr[csr.positions]; j++) {
      const v = values[j];
      if (v !== v) throw new UserInputError(`NaN activation in the feature-maximum sample (feature ${indices[j]})`);
      const f = indices[j];
      if (v > rawMax[f]) rawMax[f] = v;
      if (v !== 0) fire[f]++;
    }
    this.n += csr.positions;
  }

  finish(): FeatureMaxima {
    const F = this.features;
    if (this.n === 0) throw new UserInputError('the feature-maximum sample is empty (no activation vectors)');
    const maxima = new Float32Array(F);
    const alive = new Uint8Array(F);
    let aliveCount = 0;
    for (let f = 0; f < F; f++) {
      // Vectors where f did not fire contribute a 0 to the max, as in the dense torch code.
      const m = this.fire[f] < this.n ? Math.max(this.rawMax[f], 0) : this.rawMax[f];
      maxima[f] = Math.abs(m);
      if (this.fire[f] > 0) {
        alive[f] = 1;
        aliveCount++;
      }
    }
    return { features: F, samples: this.n, maxima, alive, fireCount: this.fire.slice(), aliveCount };
  }
}

export function featureMaximaFromCsr(csr: CsrActivations): FeatureMaxima {
  const s = new FiringStats(csr.features);
  s.addCsr(csr);
  return s.finish();
}

export function featureMaximaFromDense(dense: Float32Array, rows: number, features: number): FeatureMaxima {
  const s = new FiringStats(features);
  s.addDense(dense, rows);
  return s.finish();
}
