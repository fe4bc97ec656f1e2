/**
 * The counting kernel of metrics.md §3: for every alive feature i, threshold index t and cell,
 *   on_count[t,i] = #{x : on(i,t,x)}        TP[t,i,cell] = #{x : on(i,t,x) ∧ g_cell(x) = 1}.
 *
 * Dense, this is 11 GEMMs of (positions × F)ᵀ(positions × cells) — ~3.4 TFLOP for the chess case.
 * Here it is done from the sparse structure instead:
 *  - each activation has a level ℓ ∈ 1..11 (number of thresholds it exceeds), so one histogram
 *    H[ℓ, cell] per feature, filled once, gives every threshold by a suffix sum
 *    TP[t] = Σ_{ℓ > t} H[ℓ];
 *  - a feature's histogram is filled by walking only the positions where it fires (feature-major
 *    levels) and, for each, only the true cells of that position (the LabelSet lists).
 * Work = Σ_x L0(x) · #true cells(x) increments, and memory is one 11 × cells Int32 histogram
 * (≈ 84 KB for 1,900 cells: it stays in L2) however many features and positions there are.
 */
import { NUM_THRESHOLDS } from './thresholds.js';
import type { FeatureLevels } from './sparse.js';
import type { LabelSet } from './labels.js';
import { UserInputError } from '../errors.js';

export type FeatureCountsVisitor = (feature: number, onCount: Int32Array, tp: Int32Array | Uint16Array) => void;

export function checkSamePositions(levels: FeatureLevels, labels: LabelSet, what: string): void {
  if (levels.positions !== labels.positions) {
    throw new UserInputError(`${what}: activations cover ${levels.positions} positions but the labels cover ${labels.positions}`);
  }
}

/**
 * Calls `visit(feature, onCount[11], tp[11 × totalCells])` for every alive feature, in ascending
 * feature order. `tp[t * totalCells + cell]`; the arrays are reused between calls (copy to keep).
 */
export function forEachFeatureCounts(levels: FeatureLevels, labels: LabelSet, visit: FeatureCountsVisitor): void {
  checkSamePositions(levels, labels, 'counting');
  const cells = labels.totalCells;
  // Counts never exceed the number of positions: 16-bit histograms halve the working set
  // (11 × 2,896 cells = 64 KB instead of 127 KB) whenever they can.
  const hist = levels.positions < 65536 ? new Uint16Array(NUM_THRESHOLDS * cells) : new Int32Array(NUM_THRESHOLDS * cells);
  const levelCount = new Int32Array(NUM_THRESHOLDS + 1);
  const onCount = new Int32Array(NUM_THRESHOLDS);
  const { ptr, pos, level, alive } = levels;
  const lptr = labels.ptr;
  const lcells = labels.cells;
  for (let a = 0; a < alive.length; a++) {
    const f = alive[a];
    hist.fill(0);
    levelCount.fill(0);
    const end = ptr[f + 1];
    for (let j = ptr[f]; j < end; j++) {
      const x = pos[j];
      const lv = level[j];
      levelCount[lv]++;
      // Level ℓ lands in row ℓ-1: after the suffix sum, row t holds the counts of "level > t".
      const base = (lv - 1) * cells;
      const qEnd = lptr[x + 1];
      for (let q = lptr[x]; q < qEnd; q++) hist[base + lcells[q]]++;
    }
    for (let t = NUM_THRESHOLDS - 2; t >= 0; t--) {
      const row = t * cells;
      const next = row + cells;
      for (let c = 0; c < cells; c++) hist[row + c] += hist[next + c];
    }
    let acc = 0;
    for (let t = NUM_THRESHOLDS - 1; t >= 0; t--) {
      acc += levelCount[t + 1];
      onCount[t] = acc;
    }
    visit(f, onCount, hist);
  }
}

/**
 * All counts as dense arrays — for tests and small cases only (11 · F · cells Int32s).
 * onCount[t * F + f], tp[(t * F + f) * cells + cell]; dead features stay 0.
 */
export function denseCounts(levels: FeatureLevels, labels: LabelSet): { onCount: Int32Array; tp: Int32Array } {
  const F = levels.features;
  const cells = labels.totalCells;
  const onCount = new Int32Array(NUM_THRESHOLDS * F);
  const tp = new Int32Array(NUM_THRESHOLDS * F * cells);
  forEachFeatureCounts(levels, labels, (f, on, h) => {
    for (let t = 0; t < NUM_THRESHOLDS; t++) {
      onCount[t * F + f] = on[t];
      tp.set(h.subarray(t * cells, (t + 1) * cells), (t * F + f) * cells);
    }
  });
  return { onCount, tp };
}
