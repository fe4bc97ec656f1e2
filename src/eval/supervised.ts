/**
 * Statistics on D_train (metrics.md §3–§5): per (threshold, alive feature, cell) precision, recall
 * and F1 — reduced on the fly, one feature at a time, into what is kept:
 *  - best_F1[t, cell] = max over alive features, and which feature attains it (→ coverage, §4);
 *  - the high-precision labels (precision ≥ 0.95 exactly and TP ≥ 10, §5) for reconstruction;
 *  - each feature's best (cell, t) by F1;
 *  - sparse alignment rows: every (feature, cell, t) above a configurable F1 floor or meeting the
 *    precision floor (with the label's TP minimum), plus each feature's best row and each
 *    (cell, t)'s best feature, so coverage can be recomputed from the stored rows alone.
 * The full 11 × F × cells tensor is never materialised.
 */
import { NUM_THRESHOLDS } from './thresholds.js';
import { forEachFeatureCounts } from './counts.js';
import type { FeatureLevels } from './sparse.js';
import type { LabelSet } from './labels.js';
import { AlignmentRows } from './alignments.js';
import { argmaxFirst } from '../util/argmax.js';
import { f1Of, precisionOf, recallOf } from './metrics.js';

export interface TrainStatsOptions {
  /** High-precision label rule (metrics.md §5): precision ≥ labelPrecision … */
  labelPrecision?: number;
  /** … and TP ≥ labelMinTp. */
  labelMinTp?: number;
  /** Keep alignment rows with F1 ≥ this (default 0.2). */
  alignmentF1Floor?: number;
  /** Keep alignment rows with precision ≥ this and TP ≥ labelMinTp (default 0.95; null = off). */
  alignmentPrecisionFloor?: number | null;
}

export const DEFAULT_TRAIN_OPTIONS: Required<{ [K in keyof TrainStatsOptions]: NonNullable<TrainStatsOptions[K]> }> & { alignmentPrecisionFloor: number | null } = {
  labelPrecision: 0.95,
  labelMinTp: 10,
  alignmentF1Floor: 0.2,
  alignmentPrecisionFloor: 0.95,
};

/** Per threshold index t, a CSR from feature id to the global cells it labels. */
export interface FeatureLabels {
  features: number;
  ptr: Int32Array[];
  cells: Int32Array[];
}

export interface FamilyCoverage {
  family: string;
  /** cov[t] for t = 0..10 (metrics.md §4). */
  perThreshold: number[];
  bestThresholdIndex: number;
  /** max_t cov[t] — the CSV's `<fn>_best_average_f1`. */
  coverage: number;
  /** Number of cells with best F1 > 0 at the best threshold. */
  cellsWithAlignedFeature: number;
}

export interface TrainStatistics {
  features: number;
  positions: number;
  totalCells: number;
  /** onCount[t * F + f] */
  onCount: Int32Array;
  /** best_F1[t * cells + cell] over alive features; bestFeature −1 when every F1 is 0. */
  bestF1: Float64Array;
  bestFeature: Int32Array;
  /** Per feature id: its best cell (−1 if none), F1 and threshold index there. */
  featureBestCell: Int32Array;
  featureBestF1: Float64Array;
  featureBestThreshold: Uint8Array;
  labels: FeatureLabels;
  /** Number of (feature, cell) labels per threshold. */
  labelCount: number[];
  alignments: AlignmentRows;
  coverage: FamilyCoverage[];
}

class IntList {
  data = new Int32Array(256);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  finish(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

export function trainStatistics(levels: FeatureLevels, labels: LabelSet, options: TrainStatsOptions = {}): TrainStatistics {
  const opt = { ...DEFAULT_TRAIN_OPTIONS, ...options };
  const F = levels.features;
  const cells = labels.totalCells;
  const T = NUM_THRESHOLDS;
  const truth = labels.truthCount;

  const onCountAll = new Int32Array(T * F);
  const bestF1 = new Float64Array(T * cells);
  const bestFeature = new Int32Array(T * cells).fill(-1);
  const bestTp = new Int32Array(T * cells);
  const bestOn = new Int32Array(T * cells);
  const featureBestCell = new Int32Array(F).fill(-1);
  const featureBestF1 = new Float64Array(F);
  const featureBestThreshold = new Uint8Array(F);
  const featureBestTp = new Int32Array(F);
  const featureBestOn = new Int32Array(F);
  const labelCountPerFeature = Array.from({ length: T }, () => new Int32Array(F + 1));
  const labelCells = Array.from({ length: T }, () => new IntList());
  const rows = new AlignmentRows(1 << 14);

  const f1Floor = opt.alignmentF1Floor;
  const pFloor = opt.alignmentPrecisionFloor;
  const minTp = opt.labelMinTp;
  const labelP = opt.labelPrecision;
  const keepRow = (tp: number, on: number, f1: number): boolean => f1 >= f1Floor || (pFloor !== null && tp >= minTp && tp / on >= pFloor);

  // Cheap pre-filters keep the per-(t, cell) work to one multiply for the entries that cannot
  // matter: the ε-free ratio 2·TP/(on + all) is a strict upper bound of the code's F1, so when it
  // is below the cell's best so far, the feature's best so far and the row floor, F1 is not needed.
  const minPrecision = Math.min(labelP, pFloor ?? labelP) * (1 - 1e-9);
  forEachFeatureCounts(levels, labels, (f, on, tpAll) => {
    let fBest = 0;
    let fBestIdx = -1;
    let lim = 0; // min(f1Floor, fBest)
    for (let t = 0; t < T; t++) {
      const n = on[t];
      onCountAll[t * F + f] = n;
      if (n === 0) continue; // never on: every TP is 0, so P = R = F1 = 0 and nothing is kept
      const row = t * cells;
      const lc = labelCountPerFeature[t];
      const lcells = labelCells[t];
      const nPrecise = n * minPrecision;
      for (let c = 0; c < cells; c++) {
        const tp = tpAll[row + c];
        if (tp === 0) continue;
        const k = row + c;
        let precise = false;
        if (tp >= minTp && tp >= nPrecise) {
          // Exact precision (no ε): TP/on in float64 equals the rational comparison for any count
          // below 2^26, so precision exactly 0.95 (19 of 20) is a label, as in the paper's code.
          const exact = tp / n;
          if (exact >= labelP) {
            lc[f + 1]++;
            lcells.push(c);
          }
          precise = pFloor !== null && exact >= pFloor;
        }
        const truthC = truth[c];
        if (!precise) {
          const bound = bestF1[k] < lim ? bestF1[k] : lim;
          if (2 * tp < bound * (n + truthC)) continue;
        }
        const p = precisionOf(tp, n);
        const r = recallOf(tp, truthC);
        const f1 = f1Of(p, r);
        if (f1 > bestF1[k]) {
          bestF1[k] = f1;
          bestFeature[k] = f;
          bestTp[k] = tp;
          bestOn[k] = n;
        }
        if (f1 > fBest) {
          fBest = f1;
          fBestIdx = k;
          lim = fBest < f1Floor ? fBest : f1Floor;
        }
        if (precise || f1 >= f1Floor) rows.push(f, c, t, tp, n, truthC, p, r, f1);
      }
    }
    if (fBestIdx >= 0) {
      const t = Math.floor(fBestIdx / cells);
      featureBestCell[f] = fBestIdx - t * cells;
      featureBestF1[f] = fBest;
      featureBestThreshold[f] = t;
      featureBestTp[f] = tpAll[fBestIdx];
      featureBestOn[f] = on[t];
    }
  });

  // Bests that fell below the floors are added once each (a feature's best row may also be a
  // cell's best row).
  const extra = new Set<number>();
  const addExtra = (f: number, t: number, c: number, tp: number, n: number): void => {
    const p = precisionOf(tp, n);
    const r = recallOf(tp, truth[c]);
    const f1 = f1Of(p, r);
    if (keepRow(tp, n, f1)) return;
    const key = (f * T + t) * cells + c;
    if (extra.has(key)) return;
    extra.add(key);
    rows.push(f, c, t, tp, n, truth[c], p, r, f1);
  };
  for (let f = 0; f < F; f++) {
    if (featureBestCell[f] >= 0) addExtra(f, featureBestThreshold[f], featureBestCell[f], featureBestTp[f], featureBestOn[f]);
  }
  for (let k = 0; k < T * cells; k++) {
    if (bestFeature[k] >= 0) {
      const t = Math.floor(k / cells);
      addExtra(bestFeature[k], t, k - t * cells, bestTp[k], bestOn[k]);
    }
  }

  const labelPtr: Int32Array[] = [];
  const labelCount: number[] = [];
  for (let t = 0; t < T; t++) {
    const ptr = labelCountPerFeature[t];
    for (let f = 0; f < F; f++) ptr[f + 1] += ptr[f];
    labelPtr.push(ptr);
    labelCount.push(ptr[F]);
  }

  return {
    features: F,
    positions: levels.positions,
    totalCells: cells,
    onCount: onCountAll,
    bestF1,
    bestFeature,
    featureBestCell,
    featureBestF1,
    featureBestThreshold,
    labels: { features: F, ptr: labelPtr, cells: labelCells.map((l) => l.finish()) },
    labelCount,
    alignments: rows,
    coverage: coverageFromBest(bestF1, labels),
  };
}

/**
 * Coverage per family (metrics.md §4): cov[t] = Σ_cells best_F1[t, cell] / denominator, one threshold
 * for the whole family, Coverage = max_t cov[t] (t = 0..10, first maximum on ties).
 * CODE≠PAPER: the paper's eq. 3 takes the max over t per cell; the code (followed here) does not.
 */
export function coverageFromBest(bestF1: Float64Array, labels: LabelSet): FamilyCoverage[] {
  const cells = labels.totalCells;
  return labels.families.map((fam, k) => {
    const a = labels.offsets[k];
    const b = labels.offsets[k + 1];
    const perThreshold: number[] = [];
    for (let t = 0; t < NUM_THRESHOLDS; t++) {
      let s = 0;
      for (let c = a; c < b; c++) s += bestF1[t * cells + c];
      perThreshold.push(s / fam.coverageDenominator);
    }
    const bestT = argmaxFirst(perThreshold);
    let aligned = 0;
    for (let c = a; c < b; c++) if (bestF1[bestT * cells + c] > 0) aligned++;
    return { family: fam.name, perThreshold, bestThresholdIndex: bestT, coverage: perThreshold[bestT], cellsWithAlignedFeature: aligned };
  });
}
