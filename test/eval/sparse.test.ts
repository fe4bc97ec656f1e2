import { describe, expect, it } from 'vitest';
import {
  CsrBuilder,
  THRESHOLDS,
  activationHistograms,
  denseToCsr,
  featureMaximaFromCsr,
  levelOf,
  selectRows,
  sliceRows,
  thresholdTable,
  topActivations,
} from '../../src/eval/index.js';
import { rng } from './helpers.js';

describe('thresholds', () => {
  it('are torch.arange(0.0, 1.1, 0.1) in float32', () => {
    // values printed by torch 1.13: [0, 0.1f, 0.2f, 0.30000001192092896, ..., 0.699999988079071, ...]
    expect(THRESHOLDS[3]).toBe(0.30000001192092896);
    expect(THRESHOLDS[7]).toBe(0.699999988079071);
    expect(THRESHOLDS[10]).toBe(1);
  });
  it('levels count strictly exceeded thresholds', () => {
    const table = thresholdTable(Float32Array.of(2));
    expect(levelOf(0, table, 0)).toBe(0);
    expect(levelOf(-1, table, 0)).toBe(0);
    expect(levelOf(Math.fround(1e-7), table, 0)).toBe(1);
    expect(levelOf(1.0, table, 0)).toBe(5); // exactly 0.5·2: not above t=0.5
    expect(levelOf(Math.fround(1.0000001), table, 0)).toBe(6);
    expect(levelOf(2.0, table, 0)).toBe(10); // the maximum itself is not above t=1.0
    expect(levelOf(2.5, table, 0)).toBe(11);
  });
});

describe('CSR', () => {
  const dense = Float32Array.of(0, 1, 0, 2, 0, 0, 3, 0, 4);
  it('round-trips dense blocks and sparse rows', () => {
    const a = denseToCsr(dense, 3, 3);
    expect(Array.from(a.indptr)).toEqual([0, 1, 2, 4]);
    expect(Array.from(a.indices)).toEqual([1, 0, 0, 2]);
    expect(Array.from(a.values)).toEqual([1, 2, 3, 4]);
    const b = new CsrBuilder(3, 1, 1);
    b.appendSparseRow([1], [1]);
    b.appendDense(dense.subarray(3), 2);
    const c = b.finish();
    expect(c).toEqual(a);
  });
  it('selects and slices rows', () => {
    const a = denseToCsr(dense, 3, 3);
    const s = selectRows(a, [2, 0]);
    expect(Array.from(s.indptr)).toEqual([0, 2, 3]);
    expect(Array.from(s.indices)).toEqual([0, 2, 1]);
    expect(sliceRows(a, 1, 3)).toEqual(selectRows(a, [1, 2]));
  });
  it('maxima from CSR count the implicit zeros (all-negative features get |0|)', () => {
    // f0 = -1, -3, 0 (a zero in the sample → max 0); f1 = 2, 0, 0
    const m = featureMaximaFromCsr(denseToCsr(Float32Array.of(-1, 2, -3, 0, 0, 0), 3, 2));
    expect(Array.from(m.maxima)).toEqual([0, 2]);
    expect(Array.from(m.alive)).toEqual([1, 1]);
    const all = featureMaximaFromCsr(denseToCsr(Float32Array.of(-1, -3), 2, 1));
    expect(Array.from(all.maxima)).toEqual([1]);
  });
});

describe('top activations and histograms', () => {
  it('match a sort, per feature, with ties broken by position', () => {
    const rand = rng(4);
    const P = 200;
    const F = 5;
    const dense = new Float32Array(P * F);
    for (let i = 0; i < dense.length; i++) if (rand() < 0.3) dense[i] = Math.fround(Math.round(rand() * 20) / 4);
    const top = topActivations(denseToCsr(dense, P, F), 7);
    for (let f = 0; f < F; f++) {
      const want = Array.from({ length: P }, (_, p) => ({ p, v: dense[p * F + f] }))
        .filter((e) => e.v !== 0)
        .sort((a, b) => b.v - a.v || a.p - b.p)
        .slice(0, 7);
      const got = Array.from({ length: top.count[f] }, (_, i) => ({ p: top.position[f * 7 + i], v: top.value[f * 7 + i] }));
      expect(got.map((e) => e.v)).toEqual(want.map((e) => e.v));
      // equal values may pick different positions from the heap, but never a lower value
      expect(got.length).toBe(want.length);
    }
  });
  it('bins non-zero activations on [0, max]', () => {
    const h = activationHistograms(denseToCsr(Float32Array.of(0.1, 0.5, 0.99, 1.0, 3.0), 5, 1), Float32Array.of(1), 4);
    expect(Array.from(h.counts)).toEqual([1, 0, 1, 3]);
  });
});
