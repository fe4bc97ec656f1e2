/** The spec's worked examples and properties of coverage / reconstruction on random data. */
import { describe, expect, it } from 'vitest';
import {
  FiringStats,
  NUM_THRESHOLDS,
  denseToCsr,
  evaluateSupervised,
  labelSetFromDense,
  reconstructBoards,
  type CsrActivations,
  type FeatureLabels,
  type FeatureMaxima,
} from '../../src/eval/index.js';
import { denseActs, denseLabels, family, rng } from './helpers.js';

function maximaOf(max: number[]): FeatureMaxima {
  return {
    features: max.length,
    samples: 1,
    maxima: Float32Array.from(max),
    alive: Uint8Array.from(max.map((m) => (m > 0 ? 1 : 0))),
    fireCount: Int32Array.from(max.map((m) => (m > 0 ? 1 : 0))),
    aliveCount: max.filter((m) => m > 0).length,
  };
}

describe('metrics.md §4 worked example (coverage)', () => {
  // g1 true on positions 1–4, g2 on 5–6 (1-based). A on at 1–5 at t=0 but only 1–4 at t=0.1;
  // B on at 5–6 at t=0, only 6 at t=0.1.
  const fam = family('two', 1, 2, 1, null);
  const acts = denseActs(10, 2, { 0: { 0: 0.5 }, 1: { 0: 0.5 }, 2: { 0: 0.5 }, 3: { 0: 0.5 }, 4: { 0: 0.05, 1: 0.05 }, 5: { 1: 0.5 } });
  const labels = denseLabels(10, 2, [[0], [0], [0], [0], [1], [1], [], [], [], []]);
  const r = evaluateSupervised({ maxima: maximaOf([1, 1]), train: { activations: denseToCsr(acts, 10, 2), labels: labelSetFromDense([fam], [labels], 10) } });
  const cov = r.families[0].coverage;
  it('cov[0] = (0.889 + 1)/2 = 0.944, cov[0.1] = (1 + 0.667)/2 = 0.833', () => {
    expect(cov.perThreshold[0]).toBeCloseTo((8 / 9 + 1) / 2, 6);
    expect(cov.perThreshold[1]).toBeCloseTo((1 + 2 / 3) / 2, 6);
  });
  it('coverage is the best single threshold (0.944), not the per-cell best', () => {
    expect(cov.bestThresholdIndex).toBe(0);
    expect(cov.coverage).toBeCloseTo(0.9444444, 6);
  });
});

describe('metrics.md §6.4 worked example (reconstruction, per-class vs per-square F1)', () => {
  // One chess-like position: 8×8×13 board, class index = piece value + 6 (bsp.md §2).
  const fam = family('board_to_piece_masked_blank_and_initial_state', 8, 8, 13, 6, 'board_state');
  const cell = (sq: string, cls: number) => ((sq.charCodeAt(1) - 49) * 8 + (sq.charCodeAt(0) - 97)) * 13 + cls;
  const wN = 8, wP = 7, bP = 5, bB = 3, wB = 9;
  const truthCells = [cell('f3', wN), cell('e5', bP), cell('e4', wP)];
  const truth = labelSetFromDense([fam], [denseLabels(1, fam.cells, [truthCells])], 1);

  function reconstruct(labelsOf: number[][]) {
    // A and B are on (value 1 = level 10), C off; their labels hold at every threshold.
    const labels: FeatureLabels = { features: 3, ptr: [], cells: [] };
    for (let t = 0; t < NUM_THRESHOLDS; t++) {
      const ptr = new Int32Array(4);
      labelsOf.forEach((l, f) => (ptr[f + 1] = ptr[f] + l.length));
      labels.ptr.push(ptr);
      labels.cells.push(Int32Array.from(labelsOf.flatMap((l) => [...l].sort((a, b) => a - b))));
    }
    const acts: CsrActivations = denseToCsr(Float32Array.of(1, 1, 0), 1, 3);
    return reconstructBoards(acts, Float32Array.of(1, 1, 1), Uint8Array.of(1, 1, 1), labels, truth)[0];
  }

  it('A {wN f3, wP e4} on, B {bB g4} on, C {bP e5} off → TP 2, FP 1, FN 1, F1 0.667 both ways', () => {
    const r = reconstruct([[cell('f3', wN), cell('e4', wP)], [cell('g4', bB)], [cell('e5', bP)]]);
    expect([r.tp[0], r.fp[0], r.fn[0], r.tfp[0]]).toEqual([2, 1, 1, 0]);
    expect(r.f1PerClass[0]).toBeCloseTo(2 / 3, 6);
    expect(r.f1PerSquare[0]).toBeCloseTo(2 / 3, 6);
  });

  it('an FP in a square that also has a TP (wB e4 next to wP e4) is a TFP: per-square F1 drops, per-class does not', () => {
    const r = reconstruct([[cell('f3', wN), cell('e4', wP)], [cell('e4', wB)], [cell('e5', bP)]]);
    expect([r.tp[0], r.fp[0], r.fn[0], r.tfp[0]]).toEqual([2, 1, 1, 1]);
    expect(r.f1PerClass[0]).toBeCloseTo(2 / 3, 6);
    // TP' = 1: P' = 1/2, R' = 1/2 → 0.5
    expect(r.f1PerSquare[0]).toBeCloseTo(0.5, 6);
  });
});

/** Random sparse activations where some features copy BSP cells exactly. */
function randomCase(seed: number, P = 300, F = 40) {
  const rand = rng(seed);
  const fams = [family('board', 2, 2, 3, null), family('pieces', 2, 2, 3, 1), family('flag', 1, 1, 1, null, 'strategy')];
  const mats = fams.map((f) => {
    const m = new Uint8Array(P * f.cells);
    for (let p = 0; p < P; p++) {
      if (f.classes === 3) {
        for (let s = 0; s < f.rows * f.cols; s++) {
          const u = rand();
          if (u < 0.35) m[p * f.cells + s * 3] = 1;
          else if (u < 0.7) m[p * f.cells + s * 3 + 2] = 1;
        }
      } else if (rand() < 0.4) m[p * f.cells] = 1;
    }
    return m;
  });
  const acts = new Float32Array(P * F);
  for (let p = 0; p < P; p++) for (let f = 0; f < F; f++) if (rand() < 0.15) acts[p * F + f] = Math.fround(rand() * 2);
  return { fams, mats, acts, P, F };
}

function evaluateCase(c: ReturnType<typeof randomCase>) {
  const stats = new FiringStats(c.F);
  stats.addDense(c.acts, c.P);
  const half = Math.floor(c.P / 2);
  const rows = (m: Uint8Array, cells: number, a: number, b: number) => m.slice(a * cells, b * cells);
  return evaluateSupervised({
    maxima: stats.finish(),
    train: {
      activations: denseToCsr(c.acts.slice(0, half * c.F), half, c.F),
      labels: labelSetFromDense(c.fams, c.mats.map((m, k) => rows(m, c.fams[k].cells, 0, half)), half),
    },
    test: {
      activations: denseToCsr(c.acts.slice(half * c.F), c.P - half, c.F),
      labels: labelSetFromDense(c.fams, c.mats.map((m, k) => rows(m, c.fams[k].cells, half, c.P)), c.P - half),
    },
  });
}

describe('properties', () => {
  it('a feature that copies a BSP exactly gets F1 = 1 and covers that BSP', () => {
    const c = randomCase(7);
    // Feature 3 := 1.0 exactly where "pieces" cell 5 is true, 0 elsewhere.
    const famIdx = 1;
    const cell = 5;
    for (let p = 0; p < c.P; p++) c.acts[p * c.F + 3] = c.mats[famIdx][p * c.fams[famIdx].cells + cell] ? 1 : 0;
    const r = evaluateCase(c);
    const global = c.fams[0].cells + cell;
    expect(r.train.featureBestCell[3]).toBe(global);
    expect(r.train.featureBestF1[3]).toBeCloseTo(1, 7);
    for (let t = 0; t < 10; t++) expect(r.train.bestF1[t * r.train.totalCells + global]).toBeCloseTo(1, 7);
    expect(r.train.bestFeature[0 * r.train.totalCells + global]).toBe(3);
    // and it is a high-precision label, so it reconstructs that cell perfectly on D_test
    expect(r.train.labels.cells[0].subarray(r.train.labels.ptr[0][3], r.train.labels.ptr[0][4])).toContain(global);
  });

  it('permuting the features leaves coverage and reconstruction unchanged', () => {
    const c = randomCase(11);
    const base = evaluateCase(c);
    const rand = rng(99);
    const perm = Array.from({ length: c.F }, (_, i) => i);
    for (let i = perm.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    const permuted = new Float32Array(c.acts.length);
    for (let p = 0; p < c.P; p++) for (let f = 0; f < c.F; f++) permuted[p * c.F + perm[f]] = c.acts[p * c.F + f];
    const other = evaluateCase({ ...c, acts: permuted });
    base.families.forEach((fam, k) => {
      expect(other.families[k].coverage.perThreshold).toEqual(fam.coverage.perThreshold);
      expect(other.families[k].reconstruction!.tp).toEqual(fam.reconstruction!.tp);
      expect(other.families[k].reconstruction!.fp).toEqual(fam.reconstruction!.fp);
      expect(other.families[k].reconstruction!.reconstruction).toBe(fam.reconstruction!.reconstruction);
    });
    expect(base.families.some((f) => f.coverage.coverage > 0.2)).toBe(true);
    // a feature's statistics move with it
    for (let f = 0; f < c.F; f++) expect(other.train.featureBestF1[perm[f]]).toBe(base.train.featureBestF1[f]);
  });

  it('coverage is recoverable from the stored alignment rows alone', () => {
    const r = evaluateCase(randomCase(5));
    const cells = r.train.totalCells;
    const best = new Float64Array(NUM_THRESHOLDS * cells);
    for (const row of r.train.alignments) {
      const k = row.thresholdIndex * cells + row.cell;
      best[k] = Math.max(best[k], row.f1);
    }
    r.families.forEach((fam, k) => {
      let s = 0;
      const off = r.families.slice(0, k).reduce((a, f) => a + f.cells, 0);
      const t = fam.coverage.bestThresholdIndex;
      for (let c = off; c < off + fam.cells; c++) s += best[t * cells + c];
      expect(s / fam.coverageDenominator).toBeCloseTo(fam.coverage.coverage, 6); // rows store float32 F1
    });
  });

  it('coverage never exceeds the share of reachable cells (masked channels in the denominator)', () => {
    const r = evaluateCase(randomCase(3));
    // "board": 12 cells, channel 1 never true → at most 8/12; "pieces": denominator 8, 8 reachable.
    expect(r.families[0].coverage.coverage).toBeLessThanOrEqual(8 / 12 + 1e-9);
    expect(r.families[1].coverageDenominator).toBe(8);
    expect(r.strategy?.families).toBe(1);
    expect(r.strategy?.coverage).toBe(r.families[2].coverage.coverage);
  });
});

describe('bad input', () => {
  const fam = family('flag', 1, 1, 1, null);
  const labels = labelSetFromDense([fam], [new Uint8Array(4)], 4);
  const ok = denseToCsr(new Float32Array(4).fill(1), 4, 1);
  it('NaN activations', () => {
    expect(() => denseToCsr(Float32Array.of(1, NaN, 0, 0), 4, 1)).toThrow(/NaN/);
    const s = new FiringStats(1);
    expect(() => s.addDense(Float32Array.of(NaN), 1)).toThrow(/NaN/);
  });
  it('empty dataset', () => {
    const empty = denseToCsr(new Float32Array(0), 0, 1);
    expect(() =>
      evaluateSupervised({ maxima: maximaOf([1]), train: { activations: empty, labels: labelSetFromDense([fam], [new Uint8Array(0)], 0) } }),
    ).toThrow(/no positions/);
  });
  it('activations and labels of different lengths', () => {
    const three = labelSetFromDense([fam], [new Uint8Array(3)], 3);
    expect(() => evaluateSupervised({ maxima: maximaOf([1]), train: { activations: ok, labels: three } })).toThrow(/4 activation rows but 3/);
  });
  it('maxima for another dictionary size', () => {
    expect(() => evaluateSupervised({ maxima: maximaOf([1, 1]), train: { activations: ok, labels } })).toThrow(/features/);
  });
  it('every feature dead', () => {
    expect(() => evaluateSupervised({ maxima: maximaOf([0]), train: { activations: ok, labels } })).toThrow(/dead/);
  });
  it('D_test labelled with other families', () => {
    const other = labelSetFromDense([family('other', 1, 1, 1, null)], [new Uint8Array(4)], 4);
    expect(() => evaluateSupervised({ maxima: maximaOf([1]), train: { activations: ok, labels }, test: { activations: ok, labels: other } })).toThrow(
      /different BSP families/,
    );
  });
  it('non-0/1 labels', () => {
    expect(() => labelSetFromDense([fam], [Uint8Array.of(2)], 1)).toThrow(/0\/1/);
  });
});
