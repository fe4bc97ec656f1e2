import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/tensor/backend.js';
import { probeKindFor, trainProbe, type ProbeData } from '../../src/lm/probe.js';
import { Rng } from '../../src/lm/rng.js';

beforeAll(async () => {
  await initBackend();
});

/** Labels that a linear map of x decides exactly: class = argmax over (x·w_c + offset) per square. */
function separable(n: number, d: number, squares: number, classes: number, seed: number, truth: Float32Array): ProbeData {
  const rng = new Rng(seed);
  const x = rng.fillNormal(new Float32Array(n * d));
  const cells = squares * classes;
  const y = new Uint8Array(n * cells);
  for (let i = 0; i < n; i++) {
    for (let s = 0; s < squares; s++) {
      if (classes === 1) {
        let z = 0.3;
        for (let k = 0; k < d; k++) z += x[i * d + k] * truth[k * squares + s];
        y[i * cells + s] = z > 0 ? 1 : 0;
        continue;
      }
      let best = 0;
      let bestZ = -Infinity;
      for (let c = 0; c < classes; c++) {
        let z = 0;
        for (let k = 0; k < d; k++) z += x[i * d + k] * truth[k * cells + s * classes + c];
        if (z > bestZ) {
          bestZ = z;
          best = c;
        }
      }
      y[i * cells + s * classes + best] = 1;
    }
  }
  return { x, y, n };
}

describe('linear probes', () => {
  it('a one-hot family gets a softmax probe that reaches ~100% on separable data', async () => {
    const d = 12;
    const truth = new Rng(1).fillNormal(new Float32Array(d * 4 * 3));
    const train = separable(3000, d, 4, 3, 2, truth);
    const test = separable(600, d, 4, 3, 3, truth);
    expect(probeKindFor({ shortName: 'x', rows: 2, cols: 2, classes: 3 }, train.y, train.n)).toBe('softmax');
    const r = await trainProbe({ shortName: 'synthetic', rows: 2, cols: 2, classes: 3 }, d, train, test, { maxEpochs: 30, lr: 1e-2 });
    expect(r.kind).toBe('softmax');
    expect(r.accuracy).toBeGreaterThan(0.97);
    expect(r.baselineAccuracy).toBeLessThan(0.6);
  });

  it('binary cells get sigmoid probes with accuracy and F1 near 1 on separable data', async () => {
    const d = 10;
    const truth = new Rng(4).fillNormal(new Float32Array(d * 5));
    const train = separable(3000, d, 5, 1, 5, truth);
    const test = separable(600, d, 5, 1, 6, truth);
    const r = await trainProbe({ shortName: 'bits', rows: 5, cols: 1, classes: 1 }, d, train, test, { maxEpochs: 30, lr: 1e-2 });
    expect(r.kind).toBe('sigmoid');
    expect(r.accuracy).toBeGreaterThan(0.97);
    expect(r.f1!).toBeGreaterThan(0.97);
  });

  it('cannot do better than chance on labels independent of the activations', async () => {
    const d = 10;
    const rng = new Rng(7);
    const mk = (n: number): ProbeData => {
      const y = new Uint8Array(n * 2);
      for (let i = 0; i < n; i++) y[i * 2 + rng.int(2)] = 1;
      return { x: rng.fillNormal(new Float32Array(n * d)), y, n };
    };
    const r = await trainProbe({ shortName: 'noise', rows: 1, cols: 1, classes: 2 }, d, mk(2000), mk(2000), { maxEpochs: 5 });
    expect(r.accuracy).toBeGreaterThan(0.45);
    expect(r.accuracy).toBeLessThan(0.55);
  });

  it('starts at the class prior: on imbalanced labels independent of x it scores the majority baseline from the first epoch', async () => {
    const d = 8;
    const rng = new Rng(11);
    const mk = (n: number): ProbeData => {
      const y = new Uint8Array(n * 3);
      for (let i = 0; i < n; i++) y[i * 3 + (rng.next() < 0.85 ? 0 : 1 + rng.int(2))] = 1;
      return { x: rng.fillNormal(new Float32Array(n * d)), y, n };
    };
    const r = await trainProbe({ shortName: 'skewed', rows: 1, cols: 1, classes: 3 }, d, mk(2000), mk(2000), { maxEpochs: 1 });
    expect(r.baselineAccuracy).toBeGreaterThan(0.8);
    expect(r.accuracy).toBeGreaterThanOrEqual(r.baselineAccuracy - 0.01);
  });

  it('stops once the training loss flattens, well before a generous epoch cap', async () => {
    const d = 12;
    const truth = new Rng(1).fillNormal(new Float32Array(d * 4 * 3));
    const train = separable(2000, d, 4, 3, 2, truth);
    const test = separable(400, d, 4, 3, 3, truth);
    const r = await trainProbe({ shortName: 'synthetic', rows: 2, cols: 2, classes: 3 }, d, train, test, { maxEpochs: 500, lr: 1e-2, tolerance: 1e-2 });
    expect(r.converged).toBe(true);
    expect(r.epochs).toBeLessThan(500);
    expect(r.epochs).toBeGreaterThan(1);
    const capped = await trainProbe({ shortName: 'synthetic', rows: 2, cols: 2, classes: 3 }, d, train, test, { maxEpochs: 2, lr: 1e-2, tolerance: 0 });
    expect(capped).toMatchObject({ epochs: 2, converged: false });
  });

  it('names the family when shapes do not fit', async () => {
    const bad = { x: new Float32Array(10), y: new Uint8Array(3), n: 2 };
    await expect(trainProbe({ shortName: 'board_state', rows: 1, cols: 1, classes: 3 }, 5, bad, bad)).rejects.toThrow(/probe board_state: train labels hold 3 values, expected 2×3/);
  });
});
