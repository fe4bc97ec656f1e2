/**
 * The one expensive pass the ground-truth analyses share: for every alive feature, over the
 * positions where it fires and the BSPs true there, its true-positive counts with every BSP at
 * every threshold (and, on request, the sums of its activation values per BSP). Explanations,
 * the candidate features of each BSP (splitting, absorption) and the probe directions all read it,
 * so `analyzeGroundTruth` runs it once for the three.
 */
import type { CsrActivations } from '../sparse.js';
import { entryLevels } from '../sparse.js';
import { NUM_THRESHOLDS } from '../thresholds.js';
import type { LabelSet } from '../labels.js';

/** Activations and labels of one split (same positions, same order). */
export interface GroundTruthSplit {
  activations: CsrActivations;
  labels: LabelSet;
}

/** Slots per feature or cell in count arrays: levels 0..11. */
export const W = NUM_THRESHOLDS + 1;

export interface PreparedSplit {
  csr: CsrActivations;
  labels: LabelSet;
  /** Level of every CSR entry (0 = off at every threshold, or dead). */
  levels: Uint8Array;
  /** onAt[f·W + t] = positions where f is on at threshold index t (level > t). */
  onAt: Int32Array;
  /** Feature-major on-lists: positions ascending, with their levels and values. */
  fPtr: Int32Array;
  fPos: Int32Array;
  fLev: Uint8Array;
  fVal: Float32Array;
  /** Positions of each cell (cell-major transpose of the labels). */
  cellPtr: Int32Array;
  cellPos: Int32Array;
}

export function prepareSplit(csr: CsrActivations, labels: LabelSet, maxima: Float32Array, alive: Uint8Array): PreparedSplit {
  const F = csr.features;
  const levels = entryLevels(csr, maxima, alive);
  const onAt = new Int32Array(F * W);
  for (let j = 0; j < levels.length; j++) if (levels[j] > 0) onAt[csr.indices[j] * W + levels[j]]++;
  for (let f = 0; f < F; f++) {
    const b = f * W;
    let s = 0;
    for (let lv = NUM_THRESHOLDS; lv >= 1; lv--) {
      s += onAt[b + lv];
      onAt[b + lv] = s;
    }
    for (let t = 0; t < NUM_THRESHOLDS; t++) onAt[b + t] = onAt[b + t + 1];
    onAt[b + NUM_THRESHOLDS] = 0;
  }
  const fPtr = new Int32Array(F + 1);
  for (let j = 0; j < levels.length; j++) if (levels[j] > 0) fPtr[csr.indices[j] + 1]++;
  for (let f = 0; f < F; f++) fPtr[f + 1] += fPtr[f];
  const fill = fPtr.slice(0, F);
  const fPos = new Int32Array(fPtr[F]);
  const fLev = new Uint8Array(fPtr[F]);
  const fVal = new Float32Array(fPtr[F]);
  for (let p = 0; p < csr.positions; p++) {
    for (let j = csr.indptr[p]; j < csr.indptr[p + 1]; j++) {
      if (levels[j] === 0) continue;
      const k = fill[csr.indices[j]]++;
      fPos[k] = p;
      fLev[k] = levels[j];
      fVal[k] = csr.values[j];
    }
  }
  const cellPtr = new Int32Array(labels.totalCells + 1);
  for (let j = 0; j < labels.cells.length; j++) cellPtr[labels.cells[j] + 1]++;
  for (let c = 0; c < labels.totalCells; c++) cellPtr[c + 1] += cellPtr[c];
  const cfill = cellPtr.slice(0, labels.totalCells);
  const cellPos = new Int32Array(labels.cells.length);
  for (let p = 0; p < labels.positions; p++) for (let j = labels.ptr[p]; j < labels.ptr[p + 1]; j++) cellPos[cfill[labels.cells[j]]++] = p;
  return { csr, labels, levels, onAt, fPtr, fPos, fLev, fVal, cellPtr, cellPos };
}

/**
 * What the visitor sees for feature f: the `nt` cells true where f fires (`touched`), with
 * tp(c, t) = hist[c·W + t + 1] (positions where c holds and f is on at threshold index t), and,
 * when asked, vsum[c] = Σ of f's activations where c holds. Valid only during the call.
 */
export type FeatureVisitor = (f: number, touched: Int32Array, nt: number, hist: Int32Array, vsum: Float64Array | null) => void;

export function scanFeatureCells(prep: PreparedSplit, alive: Uint8Array, visit: FeatureVisitor, opts: { values?: boolean } = {}): void {
  const { labels, fPtr, fPos, fLev, fVal } = prep;
  const C = labels.totalCells;
  const hist = new Int32Array(C * W);
  const touched = new Int32Array(C);
  const isTouched = new Uint8Array(C);
  const vsum = opts.values ? new Float64Array(C) : null;
  const F = prep.csr.features;
  const lptr = labels.ptr;
  const lcells = labels.cells;
  for (let f = 0; f < F; f++) {
    if (!alive[f]) continue;
    let nt = 0;
    for (let q = fPtr[f]; q < fPtr[f + 1]; q++) {
      const p = fPos[q];
      const lv = fLev[q];
      const e = lptr[p + 1];
      if (vsum) {
        const v = fVal[q];
        for (let j = lptr[p]; j < e; j++) {
          const c = lcells[j];
          if (!isTouched[c]) {
            isTouched[c] = 1;
            touched[nt++] = c;
          }
          hist[c * W + lv]++;
          vsum[c] += v;
        }
      } else {
        for (let j = lptr[p]; j < e; j++) {
          const c = lcells[j];
          if (!isTouched[c]) {
            isTouched[c] = 1;
            touched[nt++] = c;
          }
          hist[c * W + lv]++;
        }
      }
    }
    // suffix sums: hist[c·W + t + 1] = #(level > t)
    for (let i = 0; i < nt; i++) {
      const b = touched[i] * W;
      for (let lv = W - 2; lv >= 1; lv--) hist[b + lv] += hist[b + lv + 1];
    }
    visit(f, touched, nt, hist, vsum);
    for (let i = 0; i < nt; i++) {
      const c = touched[i];
      isTouched[c] = 0;
      hist.fill(0, c * W, c * W + W);
      if (vsum) vsum[c] = 0;
    }
  }
}
