/**
 * Explanations scored against the labels (docs/analyses.md §3): for every alive feature, the best
 * explanation of the form one BSP, the AND or the OR of two BSPs, chosen on one split (D_train) and
 * scored by precision, recall and F1 on held-out positions (D_test). A ground-truth stand-in for
 * LLM-judged auto-interpretability.
 *
 * Search, per feature and threshold index t (feature on ⇔ level > t):
 *   - one pass over the positions where the feature fires gives its true-positive counts with
 *     every BSP at every threshold (single-BSP F1 for all BSPs at once);
 *   - pairs are searched at the best single BSP's threshold and at the lowest threshold tried;
 *   - AND(A, B) can only be good when both A and B hold where the feature fires, OR(A, B) only when
 *     the feature fires on most of A and of B: the `candidates` BSPs with the highest P(A | on) and
 *     those with the highest P(on | A) are kept, and only pairs among them are scored (their joint
 *     counts from a second pass over the on-positions, |A ∧ B| from position bitsets);
 * the explanation with the highest fitted F1 wins (ties: the simpler one, then the lower threshold).
 */
import { UserInputError } from '../../errors.js';
import { NUM_THRESHOLDS } from '../thresholds.js';
import type { LabelSet } from '../labels.js';
import { prepareSplit, scanFeatureCells, W, type FeatureVisitor, type GroundTruthSplit, type PreparedSplit } from './scan.js';

export type ExplanationKind = 'single' | 'and' | 'or';

export interface ExplanationOptions {
  /** Threshold indices tried (default 0–5). */
  thresholdIndices?: number[];
  /** BSPs kept per criterion for pairs (default 8). */
  candidates?: number;
  /** Features firing on fewer fitted positions at a threshold are not explained there (default 5). */
  minOn?: number;
}

export const DEFAULT_EXPLANATION_OPTIONS: Required<ExplanationOptions> = { thresholdIndices: [0, 1, 2, 3, 4, 5], candidates: 8, minOn: 5 };

export interface Scores {
  tp: number;
  on: number;
  truth: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface Explanation {
  feature: number;
  kind: ExplanationKind;
  /** Global cells: one for 'single', two (ascending) for 'and' / 'or'. */
  cells: number[];
  thresholdIndex: number;
  fit: Scores;
  /** On the held-out split. */
  heldOut: Scores;
  /** 0 = the feature's explanation (best fitted F1), then the others by fitted F1. */
  rank: number;
}

export interface ExplanationResult {
  options: Required<ExplanationOptions>;
  /** Up to three per explained feature (best single, AND, OR), rank 0 first. */
  explanations: Explanation[];
  aliveFeatures: number;
  explainedFeatures: number;
  /** Share of alive features whose rank-0 explanation reaches held-out F1 ≥ 0.5 / ≥ 0.8. */
  explainedShare50: number;
  explainedShare80: number;
  timingsMs: { fit: number; score: number };
}

export interface ExplanationInput {
  maxima: Float32Array;
  alive: Uint8Array;
  fit: GroundTruthSplit;
  score: GroundTruthSplit;
  options?: ExplanationOptions;
}

function scores(tp: number, on: number, truth: number): Scores {
  const precision = on > 0 ? tp / on : 0;
  const recall = truth > 0 ? tp / truth : 0;
  const f1 = tp > 0 ? (2 * tp) / (on + truth) : 0;
  return { tp, on, truth, precision, recall, f1 };
}

/** Positions of each cell as bitsets, built on demand and kept. */
class CellBits {
  private cache = new Map<number, Uint32Array>();
  private pairs = new Map<number, number>();
  readonly words: number;
  constructor(
    private readonly labels: LabelSet,
    private readonly byCell: { ptr: Int32Array; pos: Int32Array },
  ) {
    this.words = (labels.positions + 31) >>> 5;
  }
  bits(c: number): Uint32Array {
    let b = this.cache.get(c);
    if (!b) {
      b = new Uint32Array(this.words);
      for (let q = this.byCell.ptr[c]; q < this.byCell.ptr[c + 1]; q++) {
        const p = this.byCell.pos[q];
        b[p >>> 5] |= 1 << (p & 31);
      }
      this.cache.set(c, b);
    }
    return b;
  }
  count(c: number): number {
    return this.labels.truthCount[c];
  }
  both(c1: number, c2: number): number {
    const key = c1 < c2 ? c1 * this.labels.totalCells + c2 : c2 * this.labels.totalCells + c1;
    let n = this.pairs.get(key);
    if (n === undefined) {
      const a = this.bits(c1);
      const b = this.bits(c2);
      n = 0;
      for (let w = 0; w < this.words; w++) {
        let x = a[w] & b[w];
        x -= (x >>> 1) & 0x55555555;
        x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
        n += (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
      }
      this.pairs.set(key, n);
    }
    return n;
  }
  holds(kind: ExplanationKind, cells: number[], p: number): boolean {
    const w = p >>> 5;
    const m = 1 << (p & 31);
    const a = (this.bits(cells[0])[w] & m) !== 0;
    if (kind === 'single') return a;
    const b = (this.bits(cells[1])[w] & m) !== 0;
    return kind === 'and' ? a && b : a || b;
  }
  truth(kind: ExplanationKind, cells: number[]): number {
    if (kind === 'single') return this.count(cells[0]);
    const both = this.both(cells[0], cells[1]);
    return kind === 'and' ? both : this.count(cells[0]) + this.count(cells[1]) - both;
  }
}

/** Top `k` indices of `keys` (descending), ties by index. */
function topK(ids: Int32Array, n: number, key: (c: number) => number, k: number): number[] {
  const out: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = ids[i];
    const v = key(c);
    if (!(v > 0)) continue;
    if (out.length < k) {
      out.push(c);
      vals.push(v);
    } else {
      let mi = 0;
      for (let j = 1; j < k; j++) if (vals[j] < vals[mi] || (vals[j] === vals[mi] && out[j] > out[mi])) mi = j;
      if (v > vals[mi] || (v === vals[mi] && c < out[mi])) {
        out[mi] = c;
        vals[mi] = v;
      }
    }
  }
  return out;
}

export interface Explainer {
  visit: FeatureVisitor;
  result(): ExplanationResult;
}

/** Explanations fed by a scan of the fit split (scanFeatureCells), scored on the held-out split. */
export function createExplainer(fit: PreparedSplit, score: PreparedSplit, options: ExplanationOptions = {}): Explainer {
  const opts = { ...DEFAULT_EXPLANATION_OPTIONS, ...options };
  for (const t of opts.thresholdIndices) if (!Number.isInteger(t) || t < 0 || t >= NUM_THRESHOLDS) throw new UserInputError(`explanations: threshold index ${t} out of range 0..${NUM_THRESHOLDS - 1}`);
  if (score.csr.features !== fit.csr.features) throw new UserInputError('explanations: fit and held-out activations have different feature counts');
  if (fit.labels.totalCells !== score.labels.totalCells) throw new UserInputError('explanations: fit and held-out splits are labelled with different BSP families');
  const fitBits = new CellBits(fit.labels, { ptr: fit.cellPtr, pos: fit.cellPos });
  const scoreBits = new CellBits(score.labels, { ptr: score.cellPtr, pos: score.cellPos });
  const C = fit.labels.totalCells;
  const tpAt = new Int32Array(C);
  const slot = new Int32Array(C).fill(-1);
  const labels = fit.labels;
  const fitOn = fit.onAt;
  const explanations: Explanation[] = [];
  let aliveCount = 0;
  let explained = 0;
  let at50 = 0;
  let at80 = 0;
  let tScore = 0;
  let tAll = 0;

  type Pick = { kind: ExplanationKind; cells: number[]; t: number; fit: Scores };
  const visit: FeatureVisitor = (f, touched, nt, hist) => {
    const t0 = performance.now();
    aliveCount++;
    const a = fit.fPtr[f];
    const e = fit.fPtr[f + 1];
    const best: Partial<Record<ExplanationKind, Pick>> = {};
    const consider = (p: Pick) => {
      const cur = best[p.kind];
      if (!cur || p.fit.f1 > cur.fit.f1) best[p.kind] = p;
    };
    // single BSPs at every threshold, scalars only (no object per BSP)
    let sF1 = 0;
    let sCell = -1;
    let sT = -1;
    const ts = opts.thresholdIndices.filter((t) => fitOn[f * W + t] >= opts.minOn);
    for (let i = 0; i < nt; i++) {
      const c = touched[i];
      const n = fitBits.count(c);
      // F1 at any threshold ≤ 2·tp₀/(tp₀ + n): most BSPs cannot beat the best so far
      const tp0 = hist[c * W + 1];
      if ((2 * tp0) / (tp0 + n) <= sF1) continue;
      for (const t of ts) {
        const tp = hist[c * W + t + 1];
        if (tp === 0) continue;
        const f1 = (2 * tp) / (fitOn[f * W + t] + n);
        if (f1 > sF1 || (f1 === sF1 && t < sT && c === sCell)) {
          sF1 = f1;
          sCell = c;
          sT = t;
        }
      }
    }
    if (sCell >= 0) consider({ kind: 'single', cells: [sCell], t: sT, fit: scores(hist[sCell * W + sT + 1], fitOn[f * W + sT], fitBits.count(sCell)) });
    // pairs at the best single's threshold and at the lowest one tried
    const pairThresholds = sT < 0 ? [] : [...new Set([sT, opts.thresholdIndices[0]])].filter((t) => fitOn[f * W + t] >= opts.minOn);
    for (const t of pairThresholds) {
      const on = fitOn[f * W + t];
      for (let i = 0; i < nt; i++) tpAt[touched[i]] = hist[touched[i] * W + t + 1];
      const andC = topK(touched, nt, (c) => tpAt[c] / on, opts.candidates);
      const orC = topK(touched, nt, (c) => tpAt[c] / Math.max(1, fitBits.count(c)), opts.candidates);
      const cand = [...new Set([...andC, ...orC])];
      const K = cand.length;
      if (K < 2) continue;
      cand.forEach((c, i) => (slot[c] = i));
      const joint = new Int32Array(K * K);
      const present: number[] = [];
      for (let q = a; q < e; q++) {
        if (fit.fLev[q] <= t) continue;
        const p = fit.fPos[q];
        present.length = 0;
        for (let j = labels.ptr[p]; j < labels.ptr[p + 1]; j++) {
          const s = slot[labels.cells[j]];
          if (s >= 0) present.push(s);
        }
        for (let x = 0; x < present.length; x++) for (let y = x + 1; y < present.length; y++) joint[present[x] * K + present[y]]++;
      }
      for (const c of cand) slot[c] = -1;
      for (let x = 0; x < K; x++) {
        for (let y = x + 1; y < K; y++) {
          const cx = cand[x];
          const cy = cand[y];
          const both = joint[x * K + y] + joint[y * K + x];
          const cells = cx < cy ? [cx, cy] : [cy, cx];
          if (both > 0) consider({ kind: 'and', cells, t, fit: scores(both, on, fitBits.both(cx, cy)) });
          const orTp = tpAt[cx] + tpAt[cy] - both;
          consider({ kind: 'or', cells, t, fit: scores(orTp, on, fitBits.count(cx) + fitBits.count(cy) - fitBits.both(cx, cy)) });
        }
      }
    }
    const order: ExplanationKind[] = ['single', 'and', 'or'];
    const picks = order.map((k) => best[k]).filter((p): p is Pick => !!p && p.fit.f1 > 0);
    if (picks.length) {
      // best fitted F1 first; ties keep the simpler kind (stable sort over single, and, or)
      picks.sort((x, y) => y.fit.f1 - x.fit.f1);
      const s0 = performance.now();
      picks.forEach((p, rank) => {
        const on = score.onAt[f * W + p.t];
        let tp = 0;
        for (let q = score.fPtr[f]; q < score.fPtr[f + 1]; q++) if (score.fLev[q] > p.t && scoreBits.holds(p.kind, p.cells, score.fPos[q])) tp++;
        const heldOut = scores(tp, on, scoreBits.truth(p.kind, p.cells));
        explanations.push({ feature: f, kind: p.kind, cells: p.cells, thresholdIndex: p.t, fit: p.fit, heldOut, rank });
        if (rank === 0) {
          explained++;
          if (heldOut.f1 >= 0.5) at50++;
          if (heldOut.f1 >= 0.8) at80++;
        }
      });
      tScore += performance.now() - s0;
    }
    tAll += performance.now() - t0;
  };
  return {
    visit,
    result: () => ({
      options: opts,
      explanations,
      aliveFeatures: aliveCount,
      explainedFeatures: explained,
      explainedShare50: aliveCount ? at50 / aliveCount : 0,
      explainedShare80: aliveCount ? at80 / aliveCount : 0,
      timingsMs: { fit: tAll - tScore, score: tScore },
    }),
  };
}

export function explainFeatures(input: ExplanationInput): ExplanationResult {
  const { maxima, alive } = input;
  const fit = prepareSplit(input.fit.activations, input.fit.labels, maxima, alive);
  const score = prepareSplit(input.score.activations, input.score.labels, maxima, alive);
  const ex = createExplainer(fit, score, input.options);
  scanFeatureCells(fit, alive, ex.visit);
  return ex.result();
}

/** "white knight on f3 AND black to move". */
export function explanationText(kind: ExplanationKind, names: readonly string[]): string {
  if (kind === 'single') return names[0];
  return `${names[0]} ${kind === 'and' ? 'AND' : 'OR'} ${names[1]}`;
}
