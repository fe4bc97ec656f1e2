/**
 * Hand-computed small cases: 3 features (A, B, C dead) × 5 BSPs in two families × 10 positions,
 * covering threshold ties, a dead feature that still fires on the evaluation set, masked channels
 * in the coverage denominator, high-precision labels, and reconstruction with the "last" column.
 * Every expected number below is derived in the comments from the definitions in metrics.md.
 */
import { describe, expect, it } from 'vitest';
import {
  FiringStats,
  denseCounts,
  denseToCsr,
  evaluateSupervised,
  labelSetFromDense,
  toFeatureLevels,
  type FeatureMaxima,
} from '../../src/eval/index.js';
import { denseActs, denseLabels, family } from './helpers.js';

// "board": 1 row × 2 squares × 2 classes, class 1 forced to 0 (like Othello's blank channel) and
// no mask index, so the denominator is 4 (masked cells count). Cells: 0 = sq0/c0, 1 = sq0/c1
// (never true), 2 = sq1/c0, 3 = sq1/c1 (never true). "flag": one global BSP, cell 4 overall.
const board = family('board', 1, 2, 2, null);
const flag = family('flag', 1, 1, 1, null);
const F = 3; // A = 0, B = 1, C = 2 (dead)

function maxima(): FeatureMaxima {
  // Sample: A peaks at 1.0, B at 2.0, C never fires.
  const s = new FiringStats(F);
  s.addDense(denseActs(4, F, { 0: { 0: 1.0 }, 1: { 1: 2.0 }, 2: { 0: 0.25, 1: 0.5 } }), 4);
  return s.finish();
}

// D_train, 10 positions. Levels (number of thresholds fround(k/10)·max exceeded, strict >):
//   A: x0 1.0 → 10 (not > 1.0·1), x1 0.5 → 5 (tie at t=0.5), x2 0.05 → 1, x3 0.1 → 1 (tie at t=0.1),
//      x4 0.3 → 3 (tie at t=0.3, where fround(0.3) = 0.30000001)
//   B (max 2): x4 2.0 → 10, x5 1.0 → 5 (tie: fround(0.5)·2 = 1), x6 0.2 → 1 (tie: fround(0.1)·2)
//   C: fires at x0 but is dead in the maximum sample, so it is ignored everywhere.
const trainActs = denseActs(10, F, {
  0: { 0: 1.0, 2: 5.0 },
  1: { 0: 0.5 },
  2: { 0: 0.05 },
  3: { 0: 0.1 },
  4: { 0: 0.3, 1: 2.0 },
  5: { 1: 1.0 },
  6: { 1: 0.2 },
});
// Truth: board cell 0 at x0–x3, board cell 2 at x4–x5, flag at x4–x7.
const trainBoard = denseLabels(10, 4, [[0], [0], [0], [0], [2], [2], [], [], [], []]);
const trainFlag = denseLabels(10, 1, [[], [], [], [], [0], [0], [0], [0], [], []]);

// D_test, 4 positions: y0 A=1.0 (level 10); y1 B=1.5 (level 8: > 1.4, not > 1.6);
// y2 A=0.5 (level 5), B=0.3 (level 2: > 0.2, not > 0.4); y3 only the dead C.
const testActs = denseActs(4, F, { 0: { 0: 1.0 }, 1: { 1: 1.5 }, 2: { 0: 0.5, 1: 0.3 }, 3: { 2: 9 } });
const testBoard = denseLabels(4, 4, [[0], [2], [0], [2]]);
const testFlag = denseLabels(4, 1, [[], [0], [0], []]);

function run() {
  const m = maxima();
  return evaluateSupervised({
    maxima: m,
    train: { activations: denseToCsr(trainActs, 10, F), labels: labelSetFromDense([board, flag], [trainBoard, trainFlag], 10) },
    test: { activations: denseToCsr(testActs, 4, F), labels: labelSetFromDense([board, flag], [testBoard, testFlag], 4) },
    // 10 positions cannot reach the paper's TP ≥ 10, so the hand case uses TP ≥ 1 (the rule itself is tested below).
    options: { labelMinTp: 1, alignmentF1Floor: 0.5 },
  });
}

describe('hand-computed 3 features × 5 BSPs × 10 positions', () => {
  it('alive features and maxima come from the sample', () => {
    const m = maxima();
    expect(Array.from(m.alive)).toEqual([1, 1, 0]);
    expect(Array.from(m.maxima)).toEqual([1, 2, 0]);
    expect(Array.from(m.fireCount)).toEqual([2, 2, 0]);
  });

  it('on counts and TP per threshold (ties are off, dead feature ignored)', () => {
    const m = maxima();
    const levels = toFeatureLevels(denseToCsr(trainActs, 10, F), m.maxima, m.alive);
    const labels = labelSetFromDense([board, flag], [trainBoard, trainFlag], 10);
    const { onCount, tp } = denseCounts(levels, labels);
    const on = (f: number) => Array.from({ length: 11 }, (_, t) => onCount[t * F + f]);
    const TP = (f: number, c: number) => Array.from({ length: 11 }, (_, t) => tp[(t * F + f) * 5 + c]);
    expect(on(0)).toEqual([5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0]);
    expect(on(1)).toEqual([3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 0]);
    expect(on(2)).toEqual(new Array(11).fill(0));
    expect(TP(0, 0)).toEqual([4, 2, 2, 2, 2, 1, 1, 1, 1, 1, 0]);
    expect(TP(0, 2)).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(TP(0, 4)).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(TP(1, 2)).toEqual([2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 0]);
    expect(TP(1, 4)).toEqual([3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 0]);
    expect(TP(1, 0)).toEqual(new Array(11).fill(0));
    for (const c of [1, 3]) for (const f of [0, 1]) expect(TP(f, c)).toEqual(new Array(11).fill(0)); // masked cells
  });

  it('coverage: one threshold per family, masked channels in the denominator', () => {
    const r = run();
    const [b, fl] = r.families;
    // t=0: A/cell0 P=4/5 R=1 → 8/9; B/cell2 P=2/3 R=1 → 0.8.  (8/9 + 0.8)/4 = 0.42222
    // t=1,2: A/cell0 P=2/3 R=1/2 → 4/7; B/cell2 P=R=1 → 1.  (4/7 + 1)/4 = 0.39286
    // t=3,4: A/cell0 P=2/2 R=1/2 → 2/3; B/cell2 → 1.  (2/3 + 1)/4 = 0.41667
    // t=5..9: A/cell0 P=1 R=1/4 → 0.4; B/cell2 P=1 R=1/2 → 2/3.  (0.4 + 2/3)/4 = 0.26667
    const expected = [0.422222, 0.392857, 0.392857, 0.416667, 0.416667, 0.266667, 0.266667, 0.266667, 0.266667, 0.266667, 0];
    b.coverage.perThreshold.forEach((v, t) => expect(v).toBeCloseTo(expected[t], 5));
    expect(b.coverage.bestThresholdIndex).toBe(0);
    expect(b.coverage.coverage).toBeCloseTo(0.422222, 5);
    expect(b.coverageDenominator).toBe(4);
    // flag: t=0 B P=1 R=3/4 → 6/7 (A: P=1/5 R=1/4 → 2/9); t=1..4 B P=1 R=1/2 → 2/3; t=5..9 → 0.4
    const flagExpected = [0.857143, 0.666667, 0.666667, 0.666667, 0.666667, 0.4, 0.4, 0.4, 0.4, 0.4, 0];
    fl.coverage.perThreshold.forEach((v, t) => expect(v).toBeCloseTo(flagExpected[t], 5));
    expect(fl.coverage.coverage).toBeCloseTo(6 / 7, 5);
  });

  it('best features per (threshold, cell) and per feature', () => {
    const s = run().train;
    const cells = 5;
    expect(s.bestFeature[0 * cells + 0]).toBe(0); // t=0 cell0 → A
    expect(s.bestFeature[0 * cells + 2]).toBe(1); // t=0 cell2 → B (0.8 > A's 2/7)
    expect(s.bestFeature[0 * cells + 1]).toBe(-1); // masked cell: every F1 is 0
    expect(s.bestF1[1 * cells + 2]).toBeCloseTo(1, 6);
    // A's best: cell0 at t=0 (8/9); B's best: cell2 at t=1 (F1 = 1, first threshold reaching it)
    expect([s.featureBestCell[0], s.featureBestThreshold[0]]).toEqual([0, 0]);
    expect(s.featureBestF1[0]).toBeCloseTo(8 / 9, 6);
    expect([s.featureBestCell[1], s.featureBestThreshold[1]]).toEqual([2, 1]);
    expect(s.featureBestCell[2]).toBe(-1);
  });

  it('high-precision labels: precision ≥ 0.95 exactly, per threshold', () => {
    const { labels } = run().train;
    const labelsAt = (t: number, f: number) => Array.from(labels.cells[t].subarray(labels.ptr[t][f], labels.ptr[t][f + 1]));
    // A: cell0 only where P = 1 (t=3..9). B: flag from t=0 (3/3), cell2 from t=1 (2/2).
    expect(labelsAt(0, 0)).toEqual([]);
    expect(labelsAt(2, 0)).toEqual([]);
    expect(labelsAt(3, 0)).toEqual([0]);
    expect(labelsAt(5, 0)).toEqual([0]);
    expect(labelsAt(9, 0)).toEqual([0]);
    expect(labelsAt(10, 0)).toEqual([]);
    expect(labelsAt(0, 1)).toEqual([4]);
    expect(labelsAt(1, 1)).toEqual([2, 4]);
    expect(labelsAt(9, 1)).toEqual([2, 4]);
    expect(labelsAt(0, 2)).toEqual([]);
  });

  it('board reconstruction on D_test with the per-square threshold rule and the "last" column', () => {
    const [b, fl] = run().families.map((f) => f.reconstruction!);
    // board: truth has 4 true cells. t=0: nothing predicted. t=1: y1 cell2 TP, y2 cell2 FP → F1 1/3.
    // t=2: y1 cell2 → P=1 R=1/4 → 0.4. t=3,4: A's label cell0 appears (y0, y2 TP) + y1 → P=1 R=3/4 → 6/7.
    // t=5..7: y0 cell0 + y1 cell2 → 2/3 (A is off at y2). t=8,9: y0 only → 0.4.
    expect(b.trueCells).toBe(4);
    expect(b.tp.slice(0, 10)).toEqual([0, 1, 1, 3, 3, 2, 2, 2, 1, 1]);
    expect(b.fp.slice(0, 10)).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    const bf1 = [0, 1 / 3, 0.4, 6 / 7, 6 / 7, 2 / 3, 2 / 3, 2 / 3, 0.4, 0.4];
    bf1.forEach((v, t) => expect(b.f1PerClass[t]).toBeCloseTo(v, 6));
    expect(b.tfp.slice(0, 10)).toEqual(new Array(10).fill(0));
    expect(b.bestIndex).toBe(3);
    expect(b.reconstruction).toBeCloseTo(6 / 7, 6);
    // "last": y0 A → t=9 {cell0} TP; y1 B (level 8) → t=7 {cell2} TP; y2 A (level 5) → highest labelled
    // t ≤ 4 is 4 → {cell0} TP, B (level 2) → t=1 {cell2} FP. TP=3 FP=1 FN=1 → 0.75.
    expect([b.tp[10], b.fp[10], b.fn[10]]).toEqual([3, 1, 1]);
    expect(b.lastF1PerClass).toBeCloseTo(0.75, 6);
    // flag: truth at y1, y2. t=0,1: both predicted by B → F1 1; t=2..7: y1 only → 2/3; t=8,9: none.
    const ff1 = [1, 1, 2 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3, 0, 0];
    ff1.forEach((v, t) => expect(fl.f1PerClass[t]).toBeCloseTo(v, 6));
    expect(fl.bestIndex).toBe(0);
    expect(fl.reconstruction).toBeCloseTo(1, 6);
    expect(fl.lastF1PerClass).toBeCloseTo(1, 6);
  });

  it('alignment rows: above the floor, plus every best, each once', () => {
    const s = run().train;
    const keys = new Set<string>();
    for (const r of s.alignments) {
      const key = `${r.feature}/${r.cell}/${r.thresholdIndex}`;
      expect(keys.has(key)).toBe(false);
      keys.add(key);
      expect(r.f1).toBeGreaterThan(0);
    }
    // floor 0.5: A/cell0 t=0..4 (8/9, 4/7, 4/7, 2/3, 2/3), B/cell2 t=0..9, B/flag t=0..9 — and the precision-floor
    // rows (P ≥ 0.95, TP ≥ 1): A/cell0 t=5..9. Bests below the floor: A/cell2 at t=1,2 is never best;
    // A/flag never best. Every (t, cell) best is already above a floor.
    expect(keys.has('0/0/0')).toBe(true);
    expect(keys.has('0/0/9')).toBe(true);
    expect(keys.has('1/2/0')).toBe(true);
    expect(keys.has('1/4/9')).toBe(true);
    expect(keys.has('0/2/0')).toBe(false);
    expect(keys.has('0/4/0')).toBe(false);
    expect(s.alignments.length).toBe(5 + 5 + 10 + 10);
  });
});

describe('the high-precision label rule (TP ≥ 10 and precision ≥ 0.95 exactly)', () => {
  // One feature, one flag BSP. The feature fires on `on` positions, the flag is true on `tp` of them.
  function labelled(on: number, tp: number): boolean {
    const P = 40;
    const acts = new Float32Array(P);
    const truth = new Uint8Array(P);
    for (let i = 0; i < on; i++) acts[i] = 1;
    for (let i = 0; i < tp; i++) truth[i] = 1;
    const r = evaluateSupervised({
      maxima: { features: 1, samples: 1, maxima: Float32Array.of(1), alive: Uint8Array.of(1), fireCount: Int32Array.of(1), aliveCount: 1 },
      train: { activations: denseToCsr(acts, P, 1), labels: labelSetFromDense([flag], [truth], P) },
    });
    return r.train.labelCount[0] === 1;
  }
  it('19 of 20 (precision exactly 0.95) is a label', () => expect(labelled(20, 19)).toBe(true));
  it('18 of 19 (0.947) is not', () => expect(labelled(19, 18)).toBe(false));
  it('9 of 9 (TP < 10) is not', () => expect(labelled(9, 9)).toBe(false));
  it('10 of 10 is', () => expect(labelled(10, 10)).toBe(true));
});
