/**
 * Absorption and splitting measured on the ground-truth labels (docs/analyses.md §2).
 *
 * Shared first pass, per BSP b (one global cell): every feature active where b holds, with its
 * counts at all 11 thresholds, its best threshold (max F1) and F1 there.
 *
 * Splitting (k-sparse probing over features): greedily OR the features that raise F1 on b the
 * most (each at its own best threshold, among the `candidates` best single features) until the
 * OR reaches F1 ≥ `splitF1`; the number of features needed is b's splitting (null: not within
 * `maxSplit`). 1 = one feature tracks b on its own.
 *
 * Absorption (SAEBench's metric, with exact labels instead of a first-letter probe): b's main
 * features are its features with F1 ≥ `mainF1` (at least its best one; BSPs whose best feature is
 * below `mainF1` have no strong feature and are not scored). Among the positions where b holds and
 * every main feature is off, a position is absorbed when other active features carry b's
 * linear-probe direction: features with decoder cosine ≥ `absorberCosine` with the direction, whose
 * share of the positive probe projection of the reconstruction, Σ a_j·‖W_j‖·cos_j, is ≥
 * `absorberShare`. Absorption rate of b = absorbed / (positions with b and mains off); 0 when the
 * mains never miss. Per SAE: the mean over scored BSPs.
 *
 * The probe direction of b is the class-mean difference of the SAE's reconstructions (without
 * b_dec), W_decᵀ(E[f | b] − E[f | ¬b]), fitted on another split than the one scored: a linear
 * probe that needs only the stored activations, no LM pass. A trained probe's direction can be
 * passed instead (`directions`).
 */
import { UserInputError } from '../../errors.js';
import type { CsrActivations } from '../sparse.js';
import { entryLevels } from '../sparse.js';
import { NUM_THRESHOLDS } from '../thresholds.js';
import type { LabelSet } from '../labels.js';
import { familyOfCell } from '../labels.js';
import { matmulAB, matmulABt, normalizeRows } from './linalg.js';

export interface GroundTruthSplit {
  activations: CsrActivations;
  labels: LabelSet;
}

export interface GroundTruthOptions {
  /** Split target F1 (default 0.9). */
  splitF1?: number;
  /** Most features in a split (default 8). */
  maxSplit?: number;
  /** Best single features per BSP the greedy split chooses from (default 16). */
  candidates?: number;
  /** Main-feature F1 (default 0.4). */
  mainF1?: number;
  /** Absorbing feature: decoder cosine with the probe direction (default 0.3, well above the ~1/√d of unrelated directions). */
  absorberCosine?: number;
  /** Absorbing features' share of the positive probe projection (default 0.4). */
  absorberShare?: number;
  /** BSPs true on fewer scored positions are skipped (default 5). */
  minPositives?: number;
}

export const DEFAULT_GROUND_TRUTH_OPTIONS: Required<GroundTruthOptions> = {
  splitF1: 0.9,
  maxSplit: 8,
  candidates: 16,
  mainF1: 0.4,
  absorberCosine: 0.3,
  absorberShare: 0.4,
  minPositives: 5,
};

export interface GroundTruthInput {
  maxima: Float32Array;
  alive: Uint8Array;
  /** W_dec, features × dIn. */
  decoder: Float32Array;
  dIn: number;
  /** Split the probe directions are fitted on (D_train). */
  fit: GroundTruthSplit;
  /** Split absorption and splitting are measured on (D_test). */
  score: GroundTruthSplit;
  /** Global cells to analyse (default: every cell true on ≥ minPositives scored positions). */
  cells?: ArrayLike<number>;
  /** Unit probe directions, cells.length × dIn, in `cells` order (default: class-mean difference on `fit`). */
  directions?: Float32Array;
  options?: GroundTruthOptions;
}

export interface BspGroundTruth {
  cell: number;
  family: number;
  positives: number;
  bestFeature: number | null;
  bestF1: number;
  bestThresholdIndex: number | null;
  /** Features greedily ORed, in order, and the F1 after each. */
  splitFeatures: number[];
  splitF1s: number[];
  /** Features needed to reach splitF1 (null: not within maxSplit). */
  splitting: number | null;
  mainFeatures: number[];
  /** Positions where b holds and every main feature is off. */
  missed: number;
  absorbed: number;
  /** absorbed / missed (0 when missed = 0); null when b has no strong feature. */
  absorption: number | null;
  /** Mean absorbing share over missed positions. */
  meanAbsorbingShare: number;
  /** The feature absorbing b most often (null: none). */
  topAbsorber: number | null;
  topAbsorberCount: number;
}

export interface FamilyGroundTruth {
  family: number;
  bsps: number;
  scored: number;
  absorption: number | null;
  splitReached: number;
  splitting: number | null;
}

export interface GroundTruthResult {
  options: Required<GroundTruthOptions>;
  bsps: BspGroundTruth[];
  families: FamilyGroundTruth[];
  /** Mean absorption rate over scored BSPs (null: none scored); lower is better. */
  absorption: number | null;
  /** Absorbed / missed positions pooled over scored BSPs. */
  absorbedFraction: number | null;
  scoredBsps: number;
  /** Mean number of features needed over BSPs that reach splitF1 (null: none); 1 is best. */
  splitting: number | null;
  splitReached: number;
  timingsMs: { directions: number; candidates: number; splitting: number; absorption: number };
}

/** Cell-major transpose of a LabelSet: positions where each cell holds. */
export function cellPositions(labels: LabelSet): { ptr: Int32Array; pos: Int32Array } {
  const ptr = new Int32Array(labels.totalCells + 1);
  for (let j = 0; j < labels.cells.length; j++) ptr[labels.cells[j] + 1]++;
  for (let c = 0; c < labels.totalCells; c++) ptr[c + 1] += ptr[c];
  const fill = ptr.slice(0, labels.totalCells);
  const pos = new Int32Array(labels.cells.length);
  for (let p = 0; p < labels.positions; p++) for (let j = labels.ptr[p]; j < labels.ptr[p + 1]; j++) pos[fill[labels.cells[j]]++] = p;
  return { ptr, pos };
}

/** onAtLevel[f·12 + t] = #positions where feature f is on at threshold index t (level > t). */
export function onCountsByThreshold(csr: CsrActivations, levels: Uint8Array): Int32Array {
  const out = new Int32Array(csr.features * (NUM_THRESHOLDS + 1));
  const total = levels.length;
  for (let j = 0; j < total; j++) if (levels[j] > 0) out[csr.indices[j] * (NUM_THRESHOLDS + 1) + levels[j]]++;
  // suffix sums: level > t
  for (let f = 0; f < csr.features; f++) {
    const b = f * (NUM_THRESHOLDS + 1);
    let s = 0;
    for (let lv = NUM_THRESHOLDS; lv >= 1; lv--) {
      s += out[b + lv];
      out[b + lv] = s;
    }
    // index t holds #(level > t) = #(level ≥ t+1)
    for (let t = 0; t < NUM_THRESHOLDS; t++) out[b + t] = out[b + t + 1];
    out[b + NUM_THRESHOLDS] = 0;
  }
  return out;
}

const f1Of = (tp: number, on: number, truth: number): number => (tp > 0 ? (2 * tp) / (on + truth) : 0);

/** Class-mean-difference probe directions in the SAE's output space (unit rows, cells.length × dIn). */
export function meanDifferenceDirections(split: GroundTruthSplit, decoder: Float32Array, dIn: number, cells: ArrayLike<number>): Float32Array {
  const { activations: csr, labels } = split;
  const F = csr.features;
  const K = cells.length;
  const N = csr.positions;
  const all = new Float64Array(F);
  for (let j = 0; j < csr.indptr[N]; j++) all[csr.indices[j]] += csr.values[j];
  const byCell = cellPositions(labels);
  // cell-major: one F-vector (in L1/L2) per cell, rows read in position order
  const diff = new Float32Array(K * F);
  const acc = new Float64Array(F);
  for (let k = 0; k < K; k++) {
    const c = cells[k];
    const n = byCell.ptr[c + 1] - byCell.ptr[c];
    acc.fill(0);
    for (let q = byCell.ptr[c]; q < byCell.ptr[c + 1]; q++) {
      const p = byCell.pos[q];
      for (let j = csr.indptr[p]; j < csr.indptr[p + 1]; j++) acc[csr.indices[j]] += csr.values[j];
    }
    const base = k * F;
    for (let f = 0; f < F; f++) {
      const inMean = n > 0 ? acc[f] / n : 0;
      const outMean = N - n > 0 ? (all[f] - acc[f]) / (N - n) : 0;
      diff[base + f] = inMean - outMean;
    }
  }
  const dirs = matmulAB(diff, K, F, decoder, dIn);
  return normalizeRows(dirs, K, dIn).unit;
}

export function groundTruthAnalyses(input: GroundTruthInput): GroundTruthResult {
  const opts = { ...DEFAULT_GROUND_TRUTH_OPTIONS, ...input.options };
  const { maxima, alive, decoder, dIn, score } = input;
  const csr = score.activations;
  const labels = score.labels;
  const F = csr.features;
  if (decoder.length !== F * dIn) throw new UserInputError(`decoder has ${decoder.length} values, expected ${F}×${dIn}`);
  if (labels.positions !== csr.positions) throw new UserInputError(`${csr.positions} activation rows but ${labels.positions} labelled positions`);
  if (input.fit.activations.features !== F) throw new UserInputError('fit and score activations have different feature counts');

  let cells: Int32Array;
  if (input.cells) cells = Int32Array.from(input.cells);
  else {
    const list: number[] = [];
    for (let c = 0; c < labels.totalCells; c++) if (labels.truthCount[c] >= opts.minPositives) list.push(c);
    cells = Int32Array.from(list);
  }
  const K = cells.length;

  const t0 = performance.now();
  const levels = entryLevels(csr, maxima, alive);
  const onAt = onCountsByThreshold(csr, levels);
  const byCell = cellPositions(labels);
  const W = NUM_THRESHOLDS + 1;

  // feature-major on-lists of the scored split (positions ascending, with levels)
  const fPtr = new Int32Array(F + 1);
  for (let j = 0; j < levels.length; j++) if (levels[j] > 0) fPtr[csr.indices[j] + 1]++;
  for (let f = 0; f < F; f++) fPtr[f + 1] += fPtr[f];
  const fFill = fPtr.slice(0, F);
  const fPos = new Int32Array(fPtr[F]);
  const fLev = new Uint8Array(fPtr[F]);
  for (let p = 0; p < csr.positions; p++) {
    for (let j = csr.indptr[p]; j < csr.indptr[p + 1]; j++) {
      if (levels[j] === 0) continue;
      const k = fFill[csr.indices[j]]++;
      fPos[k] = p;
      fLev[k] = levels[j];
    }
  }

  // hist slot of every entry (f·12 + level), -1 where the feature is off: the hot loop below is one increment
  const code = new Int32Array(levels.length);
  for (let j = 0; j < levels.length; j++) code[j] = levels[j] > 0 ? csr.indices[j] * W + levels[j] : -1;
  const hist = new Int32Array(F * W);
  const touched = new Int32Array(F);
  const isTouched = new Uint8Array(F);
  const truth = new Uint8Array(csr.positions);
  const covered = new Uint8Array(csr.positions);
  const coveredList: number[] = [];
  const { norms } = normalizeRows(decoder, F, dIn);

  type Cand = { f: number; t: number; f1: number; tp: number; on: number };
  const perCell: { cands: Cand[] }[] = [];
  let tCand = 0;
  let tSplit = 0;
  const results: BspGroundTruth[] = [];

  for (let k = 0; k < K; k++) {
    const cell = cells[k];
    const a = byCell.ptr[cell];
    const e = byCell.ptr[cell + 1];
    const n = e - a;
    let s0 = performance.now();
    let nt = 0;
    for (let q = a; q < e; q++) {
      const p = byCell.pos[q];
      truth[p] = 1;
      for (let j = csr.indptr[p]; j < csr.indptr[p + 1]; j++) {
        const k = code[j];
        if (k < 0) continue;
        const f = csr.indices[j];
        if (!isTouched[f]) {
          isTouched[f] = 1;
          touched[nt++] = f;
        }
        hist[k]++;
      }
    }
    // keep the best `keep` features by F1 (a small insertion-sorted list: no object per feature)
    const keep = Math.max(opts.candidates, 1);
    const cands: Cand[] = [];
    let worst = 0;
    for (let u = 0; u < nt; u++) {
      const f = touched[u];
      const b = f * W;
      let tp = 0;
      let bestF1 = 0;
      let bestT = 0;
      let bestTp = 0;
      // walk thresholds from the top: tp(t) = #(level > t); ties keep the lower threshold
      for (let t = NUM_THRESHOLDS - 1; t >= 0; t--) {
        tp += hist[b + t + 1];
        const f1 = f1Of(tp, onAt[b + t], n);
        if (f1 >= bestF1 && f1 > 0) {
          bestF1 = f1;
          bestT = t;
          bestTp = tp;
        }
      }
      for (let lv = 0; lv < W; lv++) hist[b + lv] = 0;
      isTouched[f] = 0;
      if (bestF1 <= 0 || (cands.length >= keep && bestF1 < worst)) continue;
      const c: Cand = { f, t: bestT, f1: bestF1, tp: bestTp, on: onAt[b + bestT] };
      let i = cands.length;
      cands.push(c);
      while (i > 0 && (cands[i - 1].f1 < c.f1 || (cands[i - 1].f1 === c.f1 && cands[i - 1].f > c.f))) {
        cands[i] = cands[i - 1];
        i--;
      }
      cands[i] = c;
      if (cands.length > keep) cands.pop();
      worst = cands[cands.length - 1].f1;
    }
    perCell.push({ cands });
    tCand += performance.now() - s0;

    // greedy k-sparse OR
    s0 = performance.now();
    const pool = cands.slice(0, opts.candidates);
    const used = new Uint8Array(pool.length);
    let tp = 0;
    let on = 0;
    const splitFeatures: number[] = [];
    const splitF1s: number[] = [];
    let splitting: number | null = null;
    for (let step = 0; step < opts.maxSplit && step < pool.length; step++) {
      let bestI = -1;
      let bestF1 = -1;
      let bestTp = 0;
      let bestOn = 0;
      // upper bound of what the remaining candidates could add: if even all of it cannot reach
      // splitF1, the BSP does not split within maxSplit (most BSPs of a real SAE stop here)
      const tps = pool.filter((_, i) => !used[i]).map((c) => c.tp).sort((x, y) => y - x);
      let room = 0;
      for (let i = 0; i < tps.length && i < opts.maxSplit - step; i++) room += tps[i];
      const reach = Math.min(n, tp + room);
      if ((2 * reach) / (on + (reach - tp) + n) < opts.splitF1) break;
      for (let i = 0; i < pool.length; i++) {
        if (used[i]) continue;
        const c = pool[i];
        // F1 grows with the true positives added, and a candidate adds at most its own
        const g = Math.min(c.tp, n - tp);
        if ((2 * (tp + g)) / (on + g + n) <= bestF1) continue;
        let gTp = 0;
        let gOn = 0;
        for (let q = fPtr[c.f]; q < fPtr[c.f + 1]; q++) {
          if (fLev[q] <= c.t) continue;
          const p = fPos[q];
          if (covered[p]) continue;
          gOn++;
          gTp += truth[p];
        }
        const f1 = f1Of(tp + gTp, on + gOn, n);
        if (f1 > bestF1) {
          bestF1 = f1;
          bestI = i;
          bestTp = gTp;
          bestOn = gOn;
        }
      }
      if (bestI < 0 || (splitF1s.length && bestF1 <= splitF1s[splitF1s.length - 1])) break;
      used[bestI] = 1;
      const c = pool[bestI];
      for (let q = fPtr[c.f]; q < fPtr[c.f + 1]; q++) {
        if (fLev[q] <= c.t) continue;
        const p = fPos[q];
        if (!covered[p]) {
          covered[p] = 1;
          coveredList.push(p);
        }
      }
      tp += bestTp;
      on += bestOn;
      splitFeatures.push(c.f);
      splitF1s.push(bestF1);
      if (bestF1 >= opts.splitF1) {
        splitting = splitFeatures.length;
        break;
      }
    }
    for (const p of coveredList) covered[p] = 0;
    coveredList.length = 0;
    for (let q = a; q < e; q++) truth[byCell.pos[q]] = 0;
    tSplit += performance.now() - s0;

    const top = cands[0];
    results.push({
      cell,
      family: familyOfCell(labels, cell),
      positives: n,
      bestFeature: top ? top.f : null,
      bestF1: top ? top.f1 : 0,
      bestThresholdIndex: top ? top.t : null,
      splitFeatures,
      splitF1s,
      splitting,
      mainFeatures: [],
      missed: 0,
      absorbed: 0,
      absorption: null,
      meanAbsorbingShare: 0,
      topAbsorber: null,
      topAbsorberCount: 0,
    });
  }

  // absorption: only BSPs with a strong feature
  const s1 = performance.now();
  const strong: number[] = [];
  for (let k = 0; k < K; k++) if (results[k].bestF1 >= opts.mainF1) strong.push(k);
  const strongCells = strong.map((k) => cells[k]);
  let dirs: Float32Array;
  if (input.directions) {
    if (input.directions.length !== K * dIn) throw new UserInputError(`probe directions: ${input.directions.length} values, expected ${K}×${dIn}`);
    dirs = new Float32Array(strong.length * dIn);
    strong.forEach((k, i) => dirs.set(input.directions!.subarray(k * dIn, k * dIn + dIn), i * dIn));
    dirs = normalizeRows(dirs, strong.length, dIn).unit;
  } else dirs = meanDifferenceDirections(input.fit, decoder, dIn, strongCells);
  const tDirs = performance.now() - s1;

  const s2 = performance.now();
  // decoder cosine with every strong BSP's direction: F × S
  const S = strong.length;
  const unitDec = normalizeRows(decoder, F, dIn).unit;
  const cosFS = matmulABt(unitDec, F, dIn, dirs, S);
  const isMain = new Uint8Array(F);
  const mainT = new Int32Array(F);
  const absorbCount = new Int32Array(F);
  for (let s = 0; s < S; s++) {
    const k = strong[s];
    const r = results[k];
    const mains = perCell[k].cands.filter((c, i) => i === 0 || c.f1 >= opts.mainF1);
    r.mainFeatures = mains.map((c) => c.f);
    for (const c of mains) {
      isMain[c.f] = 1;
      mainT[c.f] = c.t;
    }
    const cell = cells[k];
    let missed = 0;
    let absorbed = 0;
    let shareSum = 0;
    const absorbersTouched: number[] = [];
    for (let q = byCell.ptr[cell]; q < byCell.ptr[cell + 1]; q++) {
      const p = byCell.pos[q];
      let mainOn = false;
      for (let j = csr.indptr[p]; j < csr.indptr[p + 1]; j++) {
        const f = csr.indices[j];
        if (isMain[f] && levels[j] > mainT[f]) {
          mainOn = true;
          break;
        }
      }
      if (mainOn) continue;
      missed++;
      let pos = 0;
      let abs = 0;
      for (let j = csr.indptr[p]; j < csr.indptr[p + 1]; j++) {
        if (levels[j] === 0) continue;
        const f = csr.indices[j];
        const cos = cosFS[f * S + s];
        const proj = csr.values[j] * norms[f] * cos;
        if (proj <= 0) continue;
        pos += proj;
        if (!isMain[f] && cos >= opts.absorberCosine) abs += proj;
      }
      const share = pos > 0 ? abs / pos : 0;
      shareSum += share;
      if (abs > 0 && share >= opts.absorberShare) {
        absorbed++;
        for (let j = csr.indptr[p]; j < csr.indptr[p + 1]; j++) {
          const f = csr.indices[j];
          if (levels[j] === 0 || isMain[f] || cosFS[f * S + s] < opts.absorberCosine || csr.values[j] <= 0) continue;
          if (absorbCount[f]++ === 0) absorbersTouched.push(f);
        }
      }
    }
    for (const c of mains) isMain[c.f] = 0;
    let top: number | null = null;
    let topN = 0;
    for (const f of absorbersTouched) {
      if (absorbCount[f] > topN || (absorbCount[f] === topN && top !== null && f < top)) {
        top = f;
        topN = absorbCount[f];
      }
      absorbCount[f] = 0;
    }
    r.missed = missed;
    r.absorbed = absorbed;
    r.absorption = missed > 0 ? absorbed / missed : 0;
    r.meanAbsorbingShare = missed > 0 ? shareSum / missed : 0;
    r.topAbsorber = top;
    r.topAbsorberCount = topN;
  }
  const tAbs = performance.now() - s2;

  const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((x, y) => x + y, 0) / xs.length : null);
  const scored = results.filter((r) => r.absorption !== null);
  const missedAll = scored.reduce((x, r) => x + r.missed, 0);
  const reached = results.filter((r) => r.splitting !== null);
  const families: FamilyGroundTruth[] = labels.families.map((_, fi) => {
    const rs = results.filter((r) => r.family === fi);
    const sc = rs.filter((r) => r.absorption !== null);
    const re = rs.filter((r) => r.splitting !== null);
    return { family: fi, bsps: rs.length, scored: sc.length, absorption: mean(sc.map((r) => r.absorption!)), splitReached: re.length, splitting: mean(re.map((r) => r.splitting!)) };
  });
  return {
    options: opts,
    bsps: results,
    families,
    absorption: mean(scored.map((r) => r.absorption!)),
    absorbedFraction: missedAll > 0 ? scored.reduce((x, r) => x + r.absorbed, 0) / missedAll : scored.length ? 0 : null,
    scoredBsps: scored.length,
    splitting: mean(reached.map((r) => r.splitting!)),
    splitReached: reached.length,
    timingsMs: { directions: tDirs, candidates: tCand, splitting: tSplit, absorption: tAbs },
  };
}
