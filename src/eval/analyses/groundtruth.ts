/**
 * Absorption and splitting measured on the ground-truth labels (docs/analyses.md §2).
 *
 * Shared first pass (scan.ts, run once with the explanations): per BSP b, its best features on
 * D_train, each at its own best threshold (max F1 over the 11 thresholds), and the activation sums
 * the probe directions need.
 *
 * Splitting (k-sparse probing over features): greedily OR the features that raise F1 on b the
 * most (each at its own best threshold, among the `candidates` best single features) until the
 * OR reaches F1 ≥ `splitF1`; the number of features needed is b's splitting (null: not within
 * `maxSplit`). 1 = one feature tracks b on its own. Candidates and their thresholds are chosen on
 * the fit split (D_train), the greedy OR is measured on the held-out split (D_test).
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
import { NUM_THRESHOLDS } from '../thresholds.js';
import { familyOfCell, type LabelSet } from '../labels.js';
import { matmulAB, matmulABt, normalizeRows } from './linalg.js';
import { prepareSplit, scanFeatureCells, W, type FeatureVisitor, type GroundTruthSplit, type PreparedSplit } from './scan.js';
import { createExplainer, type ExplanationOptions, type ExplanationResult } from './explanations.js';

export type { GroundTruthSplit } from './scan.js';

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

const f1Of = (tp: number, on: number, truth: number): number => (tp > 0 ? (2 * tp) / (on + truth) : 0);

/**
 * Per cell, its best `K` features on the fit split (each at its own best threshold, by F1), and the
 * sums of every feature's activations where the cell holds (for the probe directions): collected
 * from the shared scan, so no pass of its own.
 */
export interface CellCandidates {
  K: number;
  count: Int32Array;
  feature: Int32Array;
  threshold: Uint8Array;
  f1: Float32Array;
  /** sums[c·F + f] = Σ activations of f where c holds (fit split). */
  sums: Float32Array;
  /** Σ activations of each feature over the fit split. */
  totals: Float64Array;
}

export function createCandidateCollector(fit: PreparedSplit, K: number): { visit: FeatureVisitor; result(): CellCandidates } {
  const C = fit.labels.totalCells;
  const F = fit.csr.features;
  const count = new Int32Array(C);
  const feature = new Int32Array(C * K);
  const threshold = new Uint8Array(C * K);
  const f1s = new Float32Array(C * K);
  const sums = new Float32Array(C * F);
  const totals = new Float64Array(F);
  for (let f = 0; f < F; f++) for (let q = fit.fPtr[f]; q < fit.fPtr[f + 1]; q++) totals[f] += fit.fVal[q];
  const truth = fit.labels.truthCount;
  const visit: FeatureVisitor = (f, touched, nt, hist, vsum) => {
    const ob = f * W;
    for (let i = 0; i < nt; i++) {
      const c = touched[i];
      if (vsum) sums[c * F + f] = vsum[c];
      const n = truth[c];
      const b = c * W;
      // F1 at any threshold ≤ 2·tp₀/(tp₀ + n) (tp only falls with t, and on ≥ tp): skip the pair
      // when even that cannot enter the cell's full top K
      const tp0 = hist[b + 1];
      if (count[c] === K && (2 * tp0) / (tp0 + n) <= f1s[c * K + K - 1]) continue;
      let best = 0;
      let bestT = 0;
      for (let t = NUM_THRESHOLDS - 1; t >= 0; t--) {
        const tp = hist[b + t + 1];
        if (tp === 0) continue;
        const v = (2 * tp) / (fit.onAt[ob + t] + n);
        if (v >= best) {
          best = v;
          bestT = t;
        }
      }
      if (best <= 0) continue;
      // insertion into the cell's top K (F1 descending, then feature ascending)
      const base = c * K;
      let m = count[c];
      if (m === K) {
        if (best <= f1s[base + K - 1]) continue;
        m = K - 1;
      } else count[c]++;
      let j = m;
      while (j > 0 && f1s[base + j - 1] < best) {
        f1s[base + j] = f1s[base + j - 1];
        feature[base + j] = feature[base + j - 1];
        threshold[base + j] = threshold[base + j - 1];
        j--;
      }
      f1s[base + j] = best;
      feature[base + j] = f;
      threshold[base + j] = bestT;
    }
  };
  return { visit, result: () => ({ K, count, feature, threshold, f1: f1s, sums, totals }) };
}

/** Class-mean-difference probe directions from the collected sums (unit rows, cells.length × dIn). */
export function directionsFromSums(cand: CellCandidates, fit: PreparedSplit, decoder: Float32Array, dIn: number, cells: ArrayLike<number>): Float32Array {
  const F = fit.csr.features;
  const N = fit.csr.positions;
  const K = cells.length;
  const diff = new Float32Array(K * F);
  for (let k = 0; k < K; k++) {
    const c = cells[k];
    const n = fit.labels.truthCount[c];
    const base = c * F;
    for (let f = 0; f < F; f++) {
      const sIn = cand.sums[base + f];
      diff[k * F + f] = (n > 0 ? sIn / n : 0) - (N - n > 0 ? (cand.totals[f] - sIn) / (N - n) : 0);
    }
  }
  return normalizeRows(matmulAB(diff, K, F, decoder, dIn), K, dIn).unit;
}

/** Class-mean-difference probe directions in the SAE's output space, from one split directly. */
export function meanDifferenceDirections(split: GroundTruthSplit, decoder: Float32Array, dIn: number, cells: ArrayLike<number>): Float32Array {
  const F = split.activations.features;
  const alive = new Uint8Array(F).fill(1);
  const maxima = new Float32Array(F);
  for (let j = 0; j < split.activations.values.length; j++) maxima[split.activations.indices[j]] = Math.max(maxima[split.activations.indices[j]], split.activations.values[j]);
  const prep = prepareSplit(split.activations, split.labels, maxima, alive);
  const col = createCandidateCollector(prep, 1);
  scanFeatureCells(prep, alive, col.visit, { values: true });
  return directionsFromSums(col.result(), prep, decoder, dIn, cells);
}

export function groundTruthAnalyses(input: GroundTruthInput): GroundTruthResult {
  const opts = { ...DEFAULT_GROUND_TRUTH_OPTIONS, ...input.options };
  checkInput(input);
  const t0 = performance.now();
  const fit = prepareSplit(input.fit.activations, input.fit.labels, input.maxima, input.alive);
  const score = prepareSplit(input.score.activations, input.score.labels, input.maxima, input.alive);
  const col = createCandidateCollector(fit, opts.candidates);
  scanFeatureCells(fit, input.alive, col.visit, { values: true });
  const scanMs = performance.now() - t0;
  const res = groundTruthFromCandidates(input, fit, score, col.result());
  res.timingsMs.candidates = scanMs;
  return res;
}

function checkInput(input: GroundTruthInput): void {
  const { decoder, dIn, score } = input;
  const F = score.activations.features;
  if (decoder.length !== F * dIn) throw new UserInputError(`decoder has ${decoder.length} values, expected ${F}×${dIn}`);
  if (score.labels.positions !== score.activations.positions) throw new UserInputError(`${score.activations.positions} activation rows but ${score.labels.positions} labelled positions`);
  if (input.fit.activations.features !== F) throw new UserInputError('fit and score activations have different feature counts');
  if (input.fit.labels.totalCells !== score.labels.totalCells) throw new UserInputError('fit and score splits are labelled with different BSP families');
}

/**
 * Splitting and absorption on the score split, from candidates chosen on the fit split: each BSP's
 * features (and their thresholds) are picked on D_train and measured on held-out D_test.
 */
export function groundTruthFromCandidates(input: GroundTruthInput, fit: PreparedSplit, score: PreparedSplit, cand: CellCandidates): GroundTruthResult {
  const opts = { ...DEFAULT_GROUND_TRUTH_OPTIONS, ...input.options };
  checkInput(input);
  const { decoder, dIn } = input;
  const csr = score.csr;
  const labels = score.labels;
  const F = csr.features;
  const N = csr.positions;
  let cells: Int32Array;
  if (input.cells) cells = Int32Array.from(input.cells);
  else {
    const list: number[] = [];
    for (let c = 0; c < labels.totalCells; c++) if (labels.truthCount[c] >= opts.minPositives) list.push(c);
    cells = Int32Array.from(list);
  }
  const K = cells.length;
  const truth = new Uint8Array(N);
  const covered = new Uint8Array(N);
  const coveredList: number[] = [];
  const results: BspGroundTruth[] = [];
  type Cand = { f: number; t: number; fitF1: number; tp: number; on: number };
  const pools: Cand[][] = [];

  const s0 = performance.now();
  for (let k = 0; k < K; k++) {
    const cell = cells[k];
    const a = score.cellPtr[cell];
    const e = score.cellPtr[cell + 1];
    const n = e - a;
    for (let q = a; q < e; q++) truth[score.cellPos[q]] = 1;
    // held-out counts of the fitted candidates
    const pool: Cand[] = [];
    const m = Math.min(cand.count[cell], opts.candidates);
    for (let i = 0; i < m; i++) {
      const f = cand.feature[cell * cand.K + i];
      const t = cand.threshold[cell * cand.K + i];
      let tp = 0;
      for (let q = score.fPtr[f]; q < score.fPtr[f + 1]; q++) if (score.fLev[q] > t) tp += truth[score.fPos[q]];
      pool.push({ f, t, fitF1: cand.f1[cell * cand.K + i], tp, on: score.onAt[f * W + t] });
    }
    pools.push(pool);
    // greedy k-sparse OR on the held-out split
    const used = new Uint8Array(pool.length);
    let tp = 0;
    let on = 0;
    const splitFeatures: number[] = [];
    const splitF1s: number[] = [];
    let splitting: number | null = null;
    for (let step = 0; step < opts.maxSplit && step < pool.length; step++) {
      // upper bound of what the remaining candidates could add: if even all of it cannot reach
      // splitF1, the BSP does not split within maxSplit (most BSPs of a real SAE stop here)
      const tps = pool.filter((_, i) => !used[i]).map((c) => c.tp).sort((x, y) => y - x);
      let room = 0;
      for (let i = 0; i < tps.length && i < opts.maxSplit - step; i++) room += tps[i];
      const reach = Math.min(n, tp + room);
      if ((2 * reach) / (on + (reach - tp) + n) < opts.splitF1) break;
      let bestI = -1;
      let bestF1 = -1;
      let bestTp = 0;
      let bestOn = 0;
      for (let i = 0; i < pool.length; i++) {
        if (used[i]) continue;
        const c = pool[i];
        // F1 grows with the true positives added, and a candidate adds at most its own
        const g = Math.min(c.tp, n - tp);
        if ((2 * (tp + g)) / (on + g + n) <= bestF1) continue;
        let gTp = 0;
        let gOn = 0;
        for (let q = score.fPtr[c.f]; q < score.fPtr[c.f + 1]; q++) {
          if (score.fLev[q] <= c.t) continue;
          const p = score.fPos[q];
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
      for (let q = score.fPtr[c.f]; q < score.fPtr[c.f + 1]; q++) {
        if (score.fLev[q] <= c.t) continue;
        const p = score.fPos[q];
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
    for (let q = a; q < e; q++) truth[score.cellPos[q]] = 0;
    const top = pool[0];
    results.push({
      cell,
      family: familyOfCell(labels, cell),
      positives: n,
      bestFeature: top ? top.f : null,
      bestF1: top ? f1Of(top.tp, top.on, n) : 0,
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
  const tSplit = performance.now() - s0;

  // absorption: BSPs whose best fitted feature is strong
  const s1 = performance.now();
  const strong: number[] = [];
  for (let k = 0; k < K; k++) if (pools[k].length && pools[k][0].fitF1 >= opts.mainF1) strong.push(k);
  const strongCells = strong.map((k) => cells[k]);
  let dirs: Float32Array;
  if (input.directions) {
    if (input.directions.length !== K * dIn) throw new UserInputError(`probe directions: ${input.directions.length} values, expected ${K}×${dIn}`);
    dirs = new Float32Array(strong.length * dIn);
    strong.forEach((k, i) => dirs.set(input.directions!.subarray(k * dIn, k * dIn + dIn), i * dIn));
    dirs = normalizeRows(dirs, strong.length, dIn).unit;
  } else dirs = directionsFromSums(cand, fit, decoder, dIn, strongCells);
  const tDirs = performance.now() - s1;

  const s2 = performance.now();
  const S = strong.length;
  const { unit: unitDec, norms } = normalizeRows(decoder, F, dIn);
  const cosFS = matmulABt(unitDec, F, dIn, dirs, S); // F × S
  const isMain = new Uint8Array(F);
  const mainOn = new Uint8Array(N);
  const marked: number[] = [];
  const absorbCount = new Int32Array(F);
  for (let s = 0; s < S; s++) {
    const k = strong[s];
    const r = results[k];
    const mains = pools[k].filter((c, i) => i === 0 || c.fitF1 >= opts.mainF1);
    r.mainFeatures = mains.map((c) => c.f);
    for (const c of mains) {
      isMain[c.f] = 1;
      for (let q = score.fPtr[c.f]; q < score.fPtr[c.f + 1]; q++) {
        if (score.fLev[q] > c.t && !mainOn[score.fPos[q]]) {
          mainOn[score.fPos[q]] = 1;
          marked.push(score.fPos[q]);
        }
      }
    }
    const cell = cells[k];
    let missed = 0;
    let absorbed = 0;
    let shareSum = 0;
    const absorbersTouched: number[] = [];
    for (let q = score.cellPtr[cell]; q < score.cellPtr[cell + 1]; q++) {
      const p = score.cellPos[q];
      if (mainOn[p]) continue;
      missed++;
      let pos = 0;
      let abs = 0;
      for (let j = csr.indptr[p]; j < csr.indptr[p + 1]; j++) {
        if (score.levels[j] === 0) continue;
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
          if (score.levels[j] === 0 || isMain[f] || cosFS[f * S + s] < opts.absorberCosine || csr.values[j] <= 0) continue;
          if (absorbCount[f]++ === 0) absorbersTouched.push(f);
        }
      }
    }
    for (const c of mains) isMain[c.f] = 0;
    for (const p of marked) mainOn[p] = 0;
    marked.length = 0;
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
    timingsMs: { directions: tDirs, candidates: 0, splitting: tSplit, absorption: tAbs },
  };
}

export interface SaeGroundTruthInput extends GroundTruthInput {
  explanations?: ExplanationOptions;
}

/** Absorption, splitting and explanations together: one scan of the fit split feeds all three. */
export function analyzeGroundTruth(input: SaeGroundTruthInput): { groundTruth: GroundTruthResult; explanations: ExplanationResult } {
  const opts = { ...DEFAULT_GROUND_TRUTH_OPTIONS, ...input.options };
  checkInput(input);
  const t0 = performance.now();
  const fit = prepareSplit(input.fit.activations, input.fit.labels, input.maxima, input.alive);
  const score = prepareSplit(input.score.activations, input.score.labels, input.maxima, input.alive);
  const col = createCandidateCollector(fit, opts.candidates);
  const ex = createExplainer(fit, score, input.explanations);
  scanFeatureCells(
    fit,
    input.alive,
    (f, touched, nt, hist, vsum) => {
      col.visit(f, touched, nt, hist, vsum);
      ex.visit(f, touched, nt, hist, vsum);
    },
    { values: true },
  );
  const scanMs = performance.now() - t0;
  const explanations = ex.result();
  const groundTruth = groundTruthFromCandidates(input, fit, score, col.result());
  groundTruth.timingsMs.candidates = scanMs - explanations.timingsMs.fit - explanations.timingsMs.score;
  return { groundTruth, explanations };
}
