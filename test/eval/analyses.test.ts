/**
 * The analyses of src/eval/analyses on planted data where the answer is known: a feature copied and
 * split into two halves, a feature removed between checkpoints, a feature firing on "A AND B", an
 * absorbing feature built on purpose next to a clean SAE.
 */
import { describe, expect, it } from 'vitest';
import { labelSetFromDense, type LabelSet } from '../../src/eval/labels.js';
import { denseToCsr, type CsrActivations } from '../../src/eval/sparse.js';
import { solveLap } from '../../src/eval/analyses/lap.js';
import { compareCheckpointFeatures } from '../../src/eval/analyses/matching.js';
import { featureHistories, learningOrder } from '../../src/eval/analyses/history.js';
import { groundTruthAnalyses } from '../../src/eval/analyses/groundtruth.js';
import { explainFeatures, explanationText } from '../../src/eval/analyses/explanations.js';
import { matmulABt } from '../../src/eval/analyses/linalg.js';
import { family, rng } from './helpers.js';

const D = 64;
const F = 16;
const CELLS = 8;
/** Probability that each planted BSP holds (c6 is rare: an absorber of c4 ∧ c6 must stay weak on c4). */
const P_CELL = [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.15, 0.3];
const FAM = family('planted', 1, CELLS, 1, null);

interface Split {
  labels: LabelSet;
  truth: Uint8Array[];
}

function makeSplit(n: number, seed: number): Split {
  const r = rng(seed);
  const dense = new Uint8Array(n * CELLS);
  const truth: Uint8Array[] = [];
  for (let p = 0; p < n; p++) {
    const row = new Uint8Array(CELLS);
    for (let c = 0; c < CELLS; c++) if (r() < P_CELL[c]) row[c] = dense[p * CELLS + c] = 1;
    truth.push(row);
  }
  return { labels: labelSetFromDense([FAM], [dense], n), truth };
}

type Rule = (t: Uint8Array, p: number, r: () => number) => number;

/** Activations from one rule per feature (value > 0 = fires). */
function activations(split: Split, rules: Rule[], seed: number): CsrActivations {
  const r = rng(seed);
  const n = split.truth.length;
  const dense = new Float32Array(n * rules.length);
  split.truth.forEach((t, p) => rules.forEach((rule, f) => (dense[p * rules.length + f] = rule(t, p, r))));
  return denseToCsr(dense, n, rules.length);
}

function maximaOf(...csrs: CsrActivations[]): { maxima: Float32Array; alive: Uint8Array } {
  const maxima = new Float32Array(csrs[0].features);
  const alive = new Uint8Array(csrs[0].features);
  for (const c of csrs) for (let j = 0; j < c.indices.length; j++) {
    const f = c.indices[j];
    alive[f] = 1;
    maxima[f] = Math.max(maxima[f], Math.abs(c.values[j]));
  }
  return { maxima, alive };
}

function randomDirections(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < D; t++) {
      // Box–Muller
      const g = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
      out[i * D + t] = g;
      s += g * g;
    }
    for (let t = 0; t < D; t++) out[i * D + t] /= Math.sqrt(s);
  }
  return out;
}

const on = (v: number) => 1 + v;
/** Clean SAE: feature c < 8 fires exactly where cell c holds; 8..15 fire at random on 10 %. */
const CLEAN: Rule[] = [
  ...Array.from({ length: CELLS }, (_, c): Rule => (t, _p, r) => (t[c] ? on(r()) : 0)),
  ...Array.from({ length: F - CELLS }, (): Rule => (_t, _p, r) => (r() < 0.1 ? on(r()) : 0)),
];

const train = makeSplit(3000, 1);
const test = makeSplit(3000, 2);

describe('linear assignment (Jonker–Volgenant)', () => {
  function brute(cost: Float32Array, n: number): number {
    let best = Infinity;
    const perm = Array.from({ length: n }, (_, i) => i);
    const rec = (k: number, acc: number) => {
      if (acc >= best) return;
      if (k === n) return void (best = acc);
      for (let i = k; i < n; i++) {
        [perm[k], perm[i]] = [perm[i], perm[k]];
        rec(k + 1, acc + cost[k * n + perm[k]]);
        [perm[k], perm[i]] = [perm[i], perm[k]];
      }
    };
    rec(0, 0);
    return best;
  }
  /** The textbook O(n³) Hungarian method with potentials (e-maxx), as the reference for larger n. */
  function hungarian(cost: Float32Array, n: number): number {
    const u = new Float64Array(n + 1);
    const v = new Float64Array(n + 1);
    const p = new Int32Array(n + 1);
    const way = new Int32Array(n + 1);
    for (let i = 1; i <= n; i++) {
      p[0] = i;
      let j0 = 0;
      const minv = new Float64Array(n + 1).fill(Infinity);
      const used = new Uint8Array(n + 1);
      do {
        used[j0] = 1;
        const i0 = p[j0];
        let delta = Infinity;
        let j1 = 0;
        for (let j = 1; j <= n; j++) {
          if (used[j]) continue;
          const cur = cost[(i0 - 1) * n + j - 1] - u[i0] - v[j];
          if (cur < minv[j]) {
            minv[j] = cur;
            way[j] = j0;
          }
          if (minv[j] < delta) {
            delta = minv[j];
            j1 = j;
          }
        }
        for (let j = 0; j <= n; j++) {
          if (used[j]) {
            u[p[j]] += delta;
            v[j] -= delta;
          } else minv[j] -= delta;
        }
        j0 = j1;
      } while (p[j0] !== 0);
      do {
        const j1 = way[j0];
        p[j0] = p[j1];
        j0 = j1;
      } while (j0);
    }
    let total = 0;
    for (let j = 1; j <= n; j++) total += cost[(p[j] - 1) * n + j - 1];
    return total;
  }

  it('matches the Hungarian method on larger random, tied and near-identity matrices', () => {
    const r = rng(9);
    for (let trial = 0; trial < 24; trial++) {
      const n = 20 + trial * 7;
      const kind = trial % 3;
      const cost = Float32Array.from({ length: n * n }, (_, k) => {
        if (kind === 0) return r();
        if (kind === 1) return Math.floor(r() * 4);
        // two related checkpoints: a near-permutation of small costs among large ones
        return (Math.floor(k / n) * 7) % n === k % n ? 0.05 * r() : 0.5 + 0.5 * r();
      });
      const { rowToCol } = solveLap(cost, n);
      expect(new Set(rowToCol).size).toBe(n);
      const got = Array.from(rowToCol).reduce((s, j, i) => s + cost[i * n + j], 0);
      expect(got).toBeCloseTo(hungarian(cost, n), 4);
    }
  });

  it('finds the optimum of random (and heavily tied) matrices, as a permutation', () => {
    const r = rng(7);
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + (trial % 7);
      const ties = trial % 2 === 0;
      const cost = Float32Array.from({ length: n * n }, () => (ties ? Math.floor(r() * 3) : r()));
      const { rowToCol, colToRow } = solveLap(cost, n);
      expect(new Set(rowToCol).size).toBe(n);
      for (let i = 0; i < n; i++) expect(colToRow[rowToCol[i]]).toBe(i);
      const got = Array.from(rowToCol).reduce((s, j, i) => s + cost[i * n + j], 0);
      expect(got).toBeCloseTo(brute(cost, n), 5);
    }
  });
});

describe('feature matching between checkpoints', () => {
  const decA = randomDirections(F, 11);
  // A: feature 15 is dead (an unused slot); B reuses it as a second copy of feature 2 (a split) and
  // replaces feature 5 by a new direction (feature 5 of A dies, feature 5 of B is born).
  const decB = decA.slice();
  const noise = randomDirections(1, 12);
  for (let t = 0; t < D; t++) decB[15 * D + t] = decA[2 * D + t] + 0.05 * noise[t];
  decB.set(randomDirections(1, 13), 5 * D);
  const aliveA = Uint8Array.from({ length: F }, (_, i) => (i === 15 ? 0 : 1));
  const cmp = compareCheckpointFeatures({ decoder: decA, features: F, dIn: D, alive: aliveA }, { decoder: decB, features: F, dIn: D });

  it('names the copied-and-split feature a split, with both halves linked', () => {
    const split = cmp.links.filter((l) => l.kind === 'split');
    expect(split.map((l) => [l.a, l.b]).sort()).toEqual([
      [2, 15],
      [2, 2],
    ]);
    expect(split.every((l) => l.cosine! > 0.99)).toBe(true);
    expect(cmp.summary.splits).toBe(1);
    expect(cmp.summary.merges).toBe(0);
  });

  it('names the removed feature a death and its replacement a birth', () => {
    expect(cmp.links.filter((l) => l.kind === 'death').map((l) => l.a)).toEqual([5]);
    expect(cmp.links.filter((l) => l.kind === 'birth').map((l) => l.b)).toEqual([5]);
    expect(cmp.summary).toMatchObject({ deaths: 1, births: 1, aliveA: 15, aliveB: 16 });
  });

  it('matches every other feature to itself one-to-one at cosine 1', () => {
    const matched = cmp.links.filter((l) => l.matched);
    expect(matched.map((l) => l.a).sort((x, y) => x! - y!)).toEqual([0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    for (const l of matched) {
      expect(l.b).toBe(l.a);
      expect(l.cosine!).toBeGreaterThan(0.999);
    }
  });

  it('the merge is the split seen backwards', () => {
    const back = compareCheckpointFeatures({ decoder: decB, features: F, dIn: D }, { decoder: decA, features: F, dIn: D, alive: aliveA });
    expect(back.summary).toMatchObject({ merges: 1, splits: 0, deaths: 1, births: 1 });
    expect(back.links.filter((l) => l.kind === 'merge').map((l) => l.a).sort()).toEqual([15, 2]);
  });

  it('carries each pair’s best-BSP F1 at A and at B', () => {
    const f1 = Float32Array.from({ length: F }, (_, i) => i / 20);
    const c = compareCheckpointFeatures(
      { decoder: decA, features: F, dIn: D, bestF1: f1, bestBsp: Int32Array.from({ length: F }, (_, i) => i) },
      { decoder: decA, features: F, dIn: D, bestF1: f1.map((x) => x / 2), bestBsp: Int32Array.from({ length: F }, (_, i) => i) },
    );
    const l = c.links.find((x) => x.a === 6)!;
    expect(l).toMatchObject({ b: 6, bspA: 6, bspB: 6 });
    expect(l.f1A).toBeCloseTo(0.3, 6);
    expect(l.f1B).toBeCloseTo(0.15, 6);
  });

  it('the product used for cosines agrees with a plain loop', () => {
    const a = randomDirections(5, 3);
    const b = randomDirections(7, 4);
    const c = matmulABt(a, 5, D, b, 7);
    for (let i = 0; i < 5; i++)
      for (let j = 0; j < 7; j++) {
        let s = 0;
        for (let t = 0; t < D; t++) s += a[i * D + t] * b[j * D + t];
        expect(c[i * 7 + j]).toBeCloseTo(s, 5);
      }
  });
});

describe('feature history and learning order', () => {
  it('gives the first step at which each feature tracks its final BSP', () => {
    const hist = featureHistories({
      steps: [10, 100, 1000],
      finalBsp: Int32Array.from([7, 3, 5, -1]),
      f1: [Float32Array.from([0.1, 0.6, 0.2, 0]), Float32Array.from([0.7, 0.4, 0.3, 0]), Float32Array.from([0.9, 0.8, 0.45, 0])],
      level: 0.5,
    });
    expect(hist.map((h) => [h.feature, h.firstStep, h.stableStep])).toEqual([
      [0, 100, 100],
      [1, 10, 1000],
      [2, null, null],
    ]);
    expect(learningOrder(hist).map((o) => [o.bsp, o.firstStep])).toEqual([
      [3, 10],
      [7, 100],
      [5, null],
    ]);
  });
});

describe('splitting and absorption on ground truth', () => {
  const dec = randomDirections(F, 21);

  it('a feature split into two halves needs two features; a clean one needs one', () => {
    // B: feature 2 fires on the even positions of cell 2, feature 15 on the odd ones
    const rules = CLEAN.slice();
    rules[2] = (t, p, r) => (t[2] && p % 2 === 0 ? on(r()) : 0);
    rules[15] = (t, p, r) => (t[2] && p % 2 === 1 ? on(r()) : 0);
    const a = activations(train, CLEAN, 3);
    const aTest = activations(test, CLEAN, 4);
    const b = activations(train, rules, 3);
    const bTest = activations(test, rules, 4);
    const ma = maximaOf(a, aTest);
    const mb = maximaOf(b, bTest);
    const clean = groundTruthAnalyses({ ...ma, decoder: dec, dIn: D, fit: { activations: a, labels: train.labels }, score: { activations: aTest, labels: test.labels } });
    const split = groundTruthAnalyses({ ...mb, decoder: dec, dIn: D, fit: { activations: b, labels: train.labels }, score: { activations: bTest, labels: test.labels } });
    expect(clean.bsps.map((x) => x.splitting)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(clean.splitting).toBe(1);
    const c2 = split.bsps.find((x) => x.cell === 2)!;
    expect(c2.splitting).toBe(2);
    expect([...c2.splitFeatures].sort((x, y) => x - y)).toEqual([2, 15]);
    expect(c2.splitF1s[1]).toBe(1);
    expect(split.families[0].splitting).toBeCloseTo((7 + 2) / 8, 9);
  });

  it('detects an absorbing feature built on purpose; a clean SAE scores zero', () => {
    // feature 4 tracks cell 4 but stays off where cell 6 also holds; there feature 10 fires
    // instead, with a decoder carrying both directions (the classic "short" ⊂ "starts with S" case)
    const absDec = dec.slice();
    for (let t = 0; t < D; t++) absDec[10 * D + t] = (dec[4 * D + t] + dec[6 * D + t]) / Math.SQRT2;
    const rules = CLEAN.slice();
    rules[4] = (t, _p, r) => (t[4] && !t[6] ? on(r()) : 0);
    rules[10] = (t, _p, r) => (t[4] && t[6] ? on(r()) : 0);
    const fit = activations(train, rules, 5);
    const score = activations(test, rules, 6);
    const res = groundTruthAnalyses({ ...maximaOf(fit, score), decoder: absDec, dIn: D, fit: { activations: fit, labels: train.labels }, score: { activations: score, labels: test.labels } });
    const c4 = res.bsps.find((x) => x.cell === 4)!;
    expect(c4.mainFeatures).toEqual([4]);
    expect(c4.missed).toBe(test.truth.filter((t) => t[4] && t[6]).length);
    expect(c4.absorption).toBe(1);
    expect(c4.topAbsorber).toBe(10);
    expect(c4.topAbsorberCount).toBe(c4.missed);
    for (const b of res.bsps.filter((x) => x.cell !== 4)) expect(b.absorption).toBe(0);
    expect(res.absorption).toBeCloseTo(1 / 8, 9);

    const cFit = activations(train, CLEAN, 5);
    const cScore = activations(test, CLEAN, 6);
    const clean = groundTruthAnalyses({ ...maximaOf(cFit, cScore), decoder: dec, dIn: D, fit: { activations: cFit, labels: train.labels }, score: { activations: cScore, labels: test.labels } });
    expect(clean.scoredBsps).toBe(8);
    expect(clean.absorption).toBe(0);
    expect(clean.bsps.every((b) => b.missed === 0 && b.absorption === 0)).toBe(true);
  });

  it('a main feature that misses positions with nothing carrying the direction is not absorption', () => {
    // feature 4 misses cell 4 where cell 6 holds, and nothing else fires there in its direction
    const rules = CLEAN.slice();
    rules[4] = (t, _p, r) => (t[4] && !t[6] ? on(r()) : 0);
    const fit = activations(train, rules, 5);
    const score = activations(test, rules, 6);
    const res = groundTruthAnalyses({ ...maximaOf(fit, score), decoder: dec, dIn: D, fit: { activations: fit, labels: train.labels }, score: { activations: score, labels: test.labels } });
    const c4 = res.bsps.find((x) => x.cell === 4)!;
    expect(c4.missed).toBeGreaterThan(50);
    expect(c4.absorption).toBeLessThan(0.2);
  });
});

describe('explanations scored against the labels', () => {
  const rules = CLEAN.slice();
  rules[8] = (t, _p, r) => (t[0] && t[1] ? on(r()) : 0); // "A AND B"
  rules[9] = (t, _p, r) => (t[2] || t[3] ? on(r()) : 0); // "C OR D"
  const fit = activations(train, rules, 8);
  const score = activations(test, rules, 9);
  const res = explainFeatures({ ...maximaOf(fit, score), fit: { activations: fit, labels: train.labels }, score: { activations: score, labels: test.labels } });
  const best = (f: number) => res.explanations.find((e) => e.feature === f && e.rank === 0)!;

  it('a feature firing on A AND B gets that explanation with F1 = 1, fitted and held out', () => {
    const e = best(8);
    expect(e.kind).toBe('and');
    expect(e.cells).toEqual([0, 1]);
    expect(e.fit.f1).toBe(1);
    expect(e.heldOut.f1).toBe(1);
    expect(e.heldOut.tp).toBe(test.truth.filter((t) => t[0] && t[1]).length);
    expect(explanationText(e.kind, ['white knight on f3', 'black to move'])).toBe('white knight on f3 AND black to move');
  });

  it('OR and single BSPs are found too; noise features are not explained well', () => {
    expect(best(9)).toMatchObject({ kind: 'or', cells: [2, 3] });
    expect(best(9).heldOut.f1).toBe(1);
    for (let c = 0; c < CELLS; c++) {
      expect(best(c)).toMatchObject({ kind: 'single', cells: [c], thresholdIndex: 0 });
      expect(best(c).heldOut.f1).toBe(1);
    }
    for (let f = 10; f < F; f++) expect(best(f).heldOut.f1).toBeLessThan(0.5);
    expect(res.aliveFeatures).toBe(F);
    expect(res.explainedShare80).toBeCloseTo(10 / 16, 9);
  });

  it('ranks the three kinds by fitted F1', () => {
    const all = res.explanations.filter((e) => e.feature === 8);
    expect(all.map((e) => e.rank)).toEqual(all.map((_, i) => i));
    for (let i = 1; i < all.length; i++) expect(all[i].fit.f1).toBeLessThanOrEqual(all[i - 1].fit.f1);
  });
});
