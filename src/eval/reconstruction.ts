/**
 * Board reconstruction on D_test (metrics.md §6, [SBGE circuits/eval_board_reconstruction.py]).
 *
 * For every test position x and threshold index t = 0..9:
 *   pred[t, x, cell] = 1 ⇔ some alive feature i is on at t and carries the D_train label (t, i, cell).
 * Index 10 is the code's `create_max_active_mask` "last" column: each feature on at x uses its labels
 * at the highest index t ≥ 1 where it is on and has ≥ 1 label in that family (else index 0).
 * Counts are micro-averaged over all (position, cell) pairs of the family (masked cells included —
 * they are 0 in truth and prediction); the per-square variant subtracts TFP, the (position, square)
 * pairs with exactly one TP class and exactly one FP class. The reported number is the per-class F1
 * at the threshold index 0..9 that maximises the per-square F1 (CODE≠PAPER: the paper's eq. 5
 * averages per-board F1s, each with its own threshold).
 *
 * Work is proportional to Σ_x Σ_t Σ_{i on} |labels(t, i)| — labels are sparse, so this is small.
 */
import { NUM_THRESHOLDS } from './thresholds.js';
import { entryLevels, type CsrActivations } from './sparse.js';
import type { LabelSet } from './labels.js';
import type { FeatureLabels } from './supervised.js';
import { argmaxFirst } from '../util/argmax.js';
import { f1Of, precisionOf, recallOf } from './metrics.js';
import { UserInputError } from '../errors.js';

/** Threshold indices 0..9 are regular; index 10 holds the "last" (max-active) variant. */
export const RECONSTRUCTION_COLUMNS = NUM_THRESHOLDS;
export const LAST_COLUMN = NUM_THRESHOLDS - 1;

export interface FamilyReconstruction {
  family: string;
  /** Number of test positions (the code's num_boards). */
  boards: number;
  /** Number of true cells over all test positions (the code's num_squares). */
  trueCells: number;
  /** Per column 0..10 (10 = "last"): counts and both F1 variants. */
  tp: number[];
  fp: number[];
  fn: number[];
  tfp: number[];
  precisionPerClass: number[];
  recallPerClass: number[];
  f1PerClass: number[];
  f1PerSquare: number[];
  /** argmax over t = 0..9 of f1PerSquare (first maximum). */
  bestIndex: number;
  /** f1PerClass[bestIndex] — the CSV's `<fn>_best_f1_score_per_class`, the paper's number. */
  reconstruction: number;
  /** f1PerClass[10], the CSV's `<fn>_last_f1_score_per_class` (not used by the paper). */
  lastF1PerClass: number;
}

export function reconstructBoards(
  test: CsrActivations,
  maxima: Float32Array,
  alive: Uint8Array,
  labels: FeatureLabels,
  truth: LabelSet,
): FamilyReconstruction[] {
  if (test.positions !== truth.positions) {
    throw new UserInputError(`reconstruction: activations cover ${test.positions} positions but the D_test labels cover ${truth.positions}`);
  }
  if (labels.features !== test.features) {
    throw new UserInputError(`reconstruction: labels are for ${labels.features} features but the activations have ${test.features}`);
  }
  const F = test.features;
  const fams = truth.families;
  const K = fams.length;
  const cells = truth.totalCells;
  const T = NUM_THRESHOLDS;

  // Global cell → family, and → global square id (squares are counted per family).
  const cellFam = new Int32Array(cells);
  const cellSquare = new Int32Array(cells);
  const squareFam: number[] = [];
  let sqBase = 0;
  for (let k = 0; k < K; k++) {
    const f = fams[k];
    for (let c = 0; c < f.cells; c++) {
      cellFam[truth.offsets[k] + c] = k;
      cellSquare[truth.offsets[k] + c] = sqBase + Math.floor(c / f.classes);
    }
    const squares = f.rows * f.cols;
    for (let s = 0; s < squares; s++) squareFam.push(k);
    sqBase += squares;
  }
  const nSquares = sqBase;

  // For the "last" column: per (family, feature), a bit mask of the thresholds with ≥ 1 label in it.
  const famMask = new Uint16Array(K * F);
  for (let t = 0; t < T; t++) {
    const ptr = labels.ptr[t];
    const lc = labels.cells[t];
    for (let f = 0; f < F; f++) {
      for (let j = ptr[f]; j < ptr[f + 1]; j++) famMask[cellFam[lc[j]] * F + f] |= 1 << t;
    }
  }
  // Families in which a feature has any label (most features have none).
  const featFamPtr = new Int32Array(F + 1);
  const featFamList: number[] = [];
  for (let f = 0; f < F; f++) {
    for (let k = 0; k < K; k++) if (famMask[k * F + f]) featFamList.push(k);
    featFamPtr[f + 1] = featFamList.length;
  }

  const level = entryLevels(test, maxima, alive);
  const tp = new Float64Array(T * K);
  const fp = new Float64Array(T * K);
  const tfp = new Float64Array(T * K);
  const truthStamp = new Int32Array(cells).fill(-1);
  const predStamp = new Int32Array(cells);
  const sqStamp = new Int32Array(nSquares);
  const sqTp = new Int32Array(nSquares);
  const sqFp = new Int32Array(nSquares);
  const touched = new Int32Array(nSquares);
  const pred = new Int32Array(cells);
  let stamp = 0;
  const { indptr, indices } = test;
  const tptr = truth.ptr;
  const tcells = truth.cells;

  for (let x = 0; x < test.positions; x++) {
    for (let q = tptr[x]; q < tptr[x + 1]; q++) truthStamp[tcells[q]] = x;
    const e0 = indptr[x];
    const e1 = indptr[x + 1];
    for (let col = 0; col < T; col++) {
      // 1. the predicted cells (deduplicated: the code's sum-then-">0")
      stamp++;
      let nPred = 0;
      if (col < LAST_COLUMN) {
        const ptr = labels.ptr[col];
        const lc = labels.cells[col];
        for (let j = e0; j < e1; j++) {
          if (level[j] <= col) continue; // off at this threshold (or dead)
          const f = indices[j];
          for (let q = ptr[f]; q < ptr[f + 1]; q++) {
            const c = lc[q];
            if (predStamp[c] !== stamp) {
              predStamp[c] = stamp;
              pred[nPred++] = c;
            }
          }
        }
      } else {
        for (let j = e0; j < e1; j++) {
          const lv = level[j];
          if (lv === 0) continue;
          const f = indices[j];
          for (let m = featFamPtr[f]; m < featFamPtr[f + 1]; m++) {
            const k = featFamList[m];
            // Highest t in [1, lv-1] (on at t ⇔ lv > t) with a label in family k, else 0.
            const bits = famMask[k * F + f] & ((1 << lv) - 2);
            const t = bits === 0 ? 0 : 31 - Math.clz32(bits);
            const ptr = labels.ptr[t];
            const lc = labels.cells[t];
            for (let q = ptr[f]; q < ptr[f + 1]; q++) {
              const c = lc[q];
              if (cellFam[c] === k && predStamp[c] !== stamp) {
                predStamp[c] = stamp;
                pred[nPred++] = c;
              }
            }
          }
        }
      }
      // 2. TP / FP per family, and per-square TP/FP counts for TFP
      let nTouched = 0;
      for (let i = 0; i < nPred; i++) {
        const c = pred[i];
        const s = cellSquare[c];
        if (sqStamp[s] !== stamp) {
          sqStamp[s] = stamp;
          sqTp[s] = 0;
          sqFp[s] = 0;
          touched[nTouched++] = s;
        }
        const k = cellFam[c];
        if (truthStamp[c] === x) {
          tp[col * K + k]++;
          sqTp[s]++;
        } else {
          fp[col * K + k]++;
          sqFp[s]++;
        }
      }
      for (let i = 0; i < nTouched; i++) {
        const s = touched[i];
        if (sqTp[s] === 1 && sqFp[s] === 1) tfp[col * K + squareFam[s]]++;
      }
    }
  }

  return fams.map((fam, k) => {
    let trueCells = 0;
    for (let c = truth.offsets[k]; c < truth.offsets[k + 1]; c++) trueCells += truth.truthCount[c];
    const out: FamilyReconstruction = {
      family: fam.name,
      boards: truth.positions,
      trueCells,
      tp: [],
      fp: [],
      fn: [],
      tfp: [],
      precisionPerClass: [],
      recallPerClass: [],
      f1PerClass: [],
      f1PerSquare: [],
      bestIndex: 0,
      reconstruction: 0,
      lastF1PerClass: 0,
    };
    for (let col = 0; col < T; col++) {
      const TP = tp[col * K + k];
      const FP = fp[col * K + k];
      const FN = trueCells - TP;
      const TFP = tfp[col * K + k];
      const p = precisionOf(TP, TP + FP);
      const r = recallOf(TP, TP + FN);
      const adj = TP - TFP;
      out.tp.push(TP);
      out.fp.push(FP);
      out.fn.push(FN);
      out.tfp.push(TFP);
      out.precisionPerClass.push(p);
      out.recallPerClass.push(r);
      out.f1PerClass.push(f1Of(p, r));
      out.f1PerSquare.push(f1Of(precisionOf(adj, adj + FP), recallOf(adj, adj + FN)));
    }
    out.bestIndex = argmaxFirst(out.f1PerSquare, 0, LAST_COLUMN);
    out.reconstruction = out.f1PerClass[out.bestIndex];
    out.lastF1PerClass = out.f1PerClass[LAST_COLUMN];
    return out;
  });
}
