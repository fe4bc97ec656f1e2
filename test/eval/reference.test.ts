/**
 * Agreement with the paper's own computation in PyTorch (float32 thresholds, strict ">", dense
 * one-hot tensors, create_max_active_mask via argmax) on a random case with exact threshold ties,
 * dead features, masked channels and per-square TFP events. Fixture: scripts/eval-reference.py.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FiringStats, denseToCsr, evaluateSupervised, labelSetFromDense } from '../../src/eval/index.js';
import { family } from './helpers.js';

interface Fixture {
  families: { name: string; rows: number; cols: number; classes: number; maskIndex: number | null }[];
  features: number;
  sample: { positions: number; acts: number[] };
  train: { positions: number; acts: number[]; labels: Record<string, number[]> };
  test: { positions: number; acts: number[]; labels: Record<string, number[]> };
  max: number[];
  expected: {
    on_count: number[][];
    alive: number[];
    families: Record<
      string,
      {
        coverage_per_threshold: number[];
        coverage_best_index: number;
        coverage: number;
        labels: number[][][];
        reconstruction: { tp: number[]; fp: number[]; fn: number[]; tfp: number[]; f1_per_class: number[]; f1_per_square: number[]; best_index: number; reconstruction: number };
      }
    >;
  };
}

const fx = JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures', 'reference-small.json'), 'utf8')) as Fixture;

describe('agreement with the PyTorch reference (paper code semantics)', () => {
  const fams = fx.families.map((f) => family(f.name, f.rows, f.cols, f.classes, f.maskIndex));
  const F = fx.features;
  const stats = new FiringStats(F);
  stats.addDense(Float32Array.from(fx.sample.acts), fx.sample.positions);
  const maxima = stats.finish();
  const split = (s: Fixture['train']) => ({
    activations: denseToCsr(Float32Array.from(s.acts), s.positions, F),
    labels: labelSetFromDense(fams, fams.map((f) => Uint8Array.from(s.labels[f.name])), s.positions),
  });
  const result = evaluateSupervised({ maxima, train: split(fx.train), test: split(fx.test) });
  const alive = fx.expected.alive;

  it('same alive features and maxima', () => {
    expect(Array.from(maxima.maxima)).toEqual(fx.max.map((v) => Math.fround(v)));
    expect(alive).toEqual(Array.from({ length: F }, (_, f) => f).filter((f) => maxima.alive[f]));
  });

  it('same on counts at every threshold', () => {
    for (let t = 0; t < 11; t++) alive.forEach((f, i) => expect(result.train.onCount[t * F + f]).toBe(fx.expected.on_count[t][i]));
  });

  it('same coverage curve, best threshold and coverage per family', () => {
    for (const fam of result.families) {
      const e = fx.expected.families[fam.name];
      fam.coverage.perThreshold.forEach((v, t) => expect(v).toBeCloseTo(e.coverage_per_threshold[t], 6));
      expect(fam.coverage.bestThresholdIndex).toBe(e.coverage_best_index);
      expect(fam.coverage.coverage).toBeCloseTo(e.coverage, 6);
    }
  });

  it('same high-precision labels at every threshold', () => {
    const { labels } = result.train;
    let n = 0;
    result.families.forEach((fam, k) => {
      const off = fams.slice(0, k).reduce((a, f) => a + f.cells, 0);
      const e = fx.expected.families[fam.name].labels;
      for (let t = 0; t < 11; t++) {
        alive.forEach((f, i) => {
          const got = Array.from(labels.cells[t].subarray(labels.ptr[t][f], labels.ptr[t][f + 1]))
            .filter((c) => c >= off && c < off + fam.cells)
            .map((c) => c - off);
          expect(got).toEqual(e[t][i]);
          n += got.length;
        });
      }
    });
    expect(n).toBeGreaterThan(50);
  });

  it('same reconstruction counts (incl. TFP and the "last" column), F1s and best index', () => {
    for (const fam of result.families) {
      const e = fx.expected.families[fam.name].reconstruction;
      const r = fam.reconstruction!;
      expect(r.tp).toEqual(e.tp);
      expect(r.fp).toEqual(e.fp);
      expect(r.fn).toEqual(e.fn);
      expect(r.tfp).toEqual(e.tfp);
      r.f1PerClass.forEach((v, t) => expect(v).toBeCloseTo(e.f1_per_class[t], 6));
      r.f1PerSquare.forEach((v, t) => expect(v).toBeCloseTo(e.f1_per_square[t], 6));
      expect(r.bestIndex).toBe(e.best_index);
      expect(r.reconstruction).toBeCloseTo(e.reconstruction, 6);
    }
    expect(result.families.some((f) => f.reconstruction!.tfp.some((v) => v > 0))).toBe(true);
  });
});
