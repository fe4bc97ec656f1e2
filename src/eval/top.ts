/**
 * Per-feature top-k activating positions and small activation histograms, for the feature pages of
 * the API and dashboard. One pass over the CSR; per feature a size-k min-heap in flat typed arrays
 * (no per-entry allocation).
 */
import type { CsrActivations } from './sparse.js';

export interface TopActivations {
  features: number;
  k: number;
  /** Entries per feature (≤ k). */
  count: Int32Array;
  /** position[f * k + i], value[f * k + i] for i < count[f], sorted by value descending. */
  position: Int32Array;
  value: Float32Array;
}

export function topActivations(csr: CsrActivations, k: number): TopActivations {
  const F = csr.features;
  const count = new Int32Array(F);
  const pos = new Int32Array(F * k);
  const val = new Float32Array(F * k);
  if (k <= 0) return { features: F, k, count, position: pos, value: val };
  const { indptr, indices, values } = csr;
  for (let p = 0; p < csr.positions; p++) {
    for (let j = indptr[p]; j < indptr[p + 1]; j++) {
      const f = indices[j];
      const v = values[j];
      const base = f * k;
      const n = count[f];
      if (n < k) {
        // sift up
        let i = n;
        while (i > 0) {
          const parent = (i - 1) >> 1;
          if (val[base + parent] <= v) break;
          val[base + i] = val[base + parent];
          pos[base + i] = pos[base + parent];
          i = parent;
        }
        val[base + i] = v;
        pos[base + i] = p;
        count[f] = n + 1;
      } else if (v > val[base]) {
        // replace the minimum, sift down
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          if (l >= k) break;
          const r = l + 1;
          const m = r < k && val[base + r] < val[base + l] ? r : l;
          if (val[base + m] >= v) break;
          val[base + i] = val[base + m];
          pos[base + i] = pos[base + m];
          i = m;
        }
        val[base + i] = v;
        pos[base + i] = p;
      }
    }
  }
  // Heaps → descending order (ties: earlier position first).
  const idx: number[] = [];
  for (let f = 0; f < F; f++) {
    const n = count[f];
    if (n < 2) continue;
    const base = f * k;
    idx.length = 0;
    for (let i = 0; i < n; i++) idx.push(i);
    idx.sort((a, b) => val[base + b] - val[base + a] || pos[base + a] - pos[base + b]);
    const v2 = idx.map((i) => val[base + i]);
    const p2 = idx.map((i) => pos[base + i]);
    for (let i = 0; i < n; i++) {
      val[base + i] = v2[i];
      pos[base + i] = p2[i];
    }
  }
  return { features: F, k, count, position: pos, value: val };
}

export interface ActivationHistograms {
  features: number;
  bins: number;
  /** counts[f * bins + b]: non-zero activations of feature f in bin b. */
  counts: Int32Array;
}

/**
 * Equal-width histograms of each feature's non-zero activations on [0, max_f] (max_f from the
 * feature-maximum sample; values above it go to the last bin, values ≤ 0 to the first).
 */
export function activationHistograms(csr: CsrActivations, maxima: Float32Array, bins = 16): ActivationHistograms {
  const F = csr.features;
  const counts = new Int32Array(F * bins);
  const { indptr, indices, values } = csr;
  const total = indptr[csr.positions];
  for (let j = 0; j < total; j++) {
    const f = indices[j];
    const m = maxima[f];
    let b = m > 0 ? Math.floor((values[j] / m) * bins) : bins - 1;
    if (b < 0) b = 0;
    else if (b >= bins) b = bins - 1;
    counts[f * bins + b]++;
  }
  return { features: F, bins, counts };
}
