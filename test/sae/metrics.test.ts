/** Unsupervised metrics against hand-computed values; loss recovered with exact and null SAEs. */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tensor/backend.js';
import { createDictionary, Rng } from '../../src/sae/index.js';
import { gptPatchedLoss, lossRecovered, metricRows, reconstructionMetrics } from '../../src/sae/metrics.js';
import { makeConfig } from '../../src/lm/config.js';
import { Gpt } from '../../src/lm/model.js';

beforeAll(async () => {
  await initBackend();
});

const f32 = (a: number[]) => new Float32Array(a);
const relu = () =>
  createDictionary('relu', 2, 3, { W_enc: f32([1, 0, -1, 0, 1, 1]), b_enc: f32([0, -0.5, 0.1]), W_dec: f32([1, 0, 0, 1, 0.6, 0.8]), b_dec: f32([1, 0]) });

describe('reconstruction metrics', () => {
  it('match hand-computed values (two vectors)', async () => {
    const dict = relu();
    // x = (2,1): f = (1, .5, .1), x̂ = (2.06, .58);   x = (0,0): f = (0, 0, 1.1), x̂ = (1.66, .88)
    const m = await reconstructionMetrics(dict, [f32([2, 1, 0, 0])]);
    expect(m.l0).toBe(2);
    expect(m.mse).toBeCloseTo(3.71 / 4, 5);
    expect(m.l2Loss).toBeCloseTo((Math.sqrt(0.18) + Math.sqrt(3.53)) / 2, 5);
    expect(m.l1Loss).toBeCloseTo(1.35, 5);
    expect(m.l1Normalized).toBeCloseTo(1.6 / Math.sqrt(5) / 2, 5);
    // Var over the 2 vectors (n − 1): Σ Var(x) = 2 + 0.5; Σ Var(x − x̂) = 1.28 + 0.845
    expect(m.fracVarianceExplained).toBeCloseTo(1 - 2.125 / 2.5, 5);
    expect(m.cossim).toBeCloseTo((2 * 2.06 + 0.58) / (Math.sqrt(5) * Math.hypot(2.06, 0.58)) / 2, 5);
    expect(m.relativeReconstructionBias).toBeCloseTo(8.11 / 4.7, 4);
    expect(Array.from(m.featureDensity)).toEqual([0.5, 0.5, 1]);
    expect([m.aliveFeatures, m.deadFeatures, m.denseFeatures, m.fracAlive]).toEqual([3, 0, 3, 2 / 3]);
    // the same data in two batches of one vector gives the same numbers (streaming merge)
    const m2 = await reconstructionMetrics(dict, [f32([2, 1]), f32([0, 0])]);
    expect(m2.fracVarianceExplained).toBeCloseTo(m.fracVarianceExplained, 6);
    expect(m2.mse).toBeCloseTo(m.mse, 6);
    dict.dispose();
  });

  it('counts dead features and bins densities', async () => {
    const dict = relu();
    // only x with both coordinates negative: feature 0, 1 never fire
    const rows: number[] = [];
    for (let i = 0; i < 50; i++) rows.push(-1 - i / 50, -1);
    const m = await reconstructionMetrics(dict, [f32(rows)]);
    expect(m.deadFeatures).toBe(2);
    expect(m.densityHistogram.dead).toBe(2);
    expect(m.densityHistogram.counts.reduce((a, b) => a + b, 0)).toBe(1);
    expect(m.densityHistogram.counts[39]).toBe(1); // density 1 → top bin
    const names = metricRows(m, null).map((r) => r.metric);
    expect(names).toContain('frac_variance_explained');
    expect(names).toContain('dead_features');
    dict.dispose();
  });
});

describe('loss recovered', () => {
  it('is 1 for an SAE that reconstructs exactly, 0 for one that outputs zeros', () => {
    const d = 16;
    const model = Gpt.random(makeConfig({ nLayer: 2, nHead: 2, dModel: d, nCtx: 12, vocabSize: 11 }), 3);
    const rng = new Rng(4);
    const rows = 6;
    const T = 10;
    const tokens = Int32Array.from({ length: rows * T }, () => rng.int(11));
    // perfect: f = (ReLU(x), ReLU(−x)), x̂ = f₊ − f₋ = x
    const I = new Float32Array(d * d);
    for (let i = 0; i < d; i++) I[i * d + i] = 1;
    const W_enc = new Float32Array(d * 2 * d);
    const W_dec = new Float32Array(2 * d * d);
    for (let i = 0; i < d; i++) {
      W_enc[i * 2 * d + i] = 1;
      W_enc[i * 2 * d + d + i] = -1;
      W_dec[i * d + i] = 1;
      W_dec[(d + i) * d + i] = -1;
    }
    const perfect = createDictionary('relu', d, 2 * d, { W_enc, b_enc: new Float32Array(2 * d), W_dec, b_dec: new Float32Array(d) });
    const zero = createDictionary('relu', d, 2 * d, { W_enc, b_enc: new Float32Array(2 * d), W_dec: new Float32Array(2 * d * d), b_dec: new Float32Array(d) });
    const loss = gptPatchedLoss(model, 0);
    const a = lossRecovered(loss, perfect, tokens, rows, T, 4);
    const b = lossRecovered(loss, zero, tokens, rows, T, 4);
    const clean = tf.tidy(() => model.nextTokenLoss(tf.tensor2d(tokens, [rows, T], 'int32')).dataSync()[0]);
    expect(a.lossOriginal).toBeCloseTo(clean, 4);
    expect(a.lossReconstructed).toBeCloseTo(a.lossOriginal, 4);
    expect(a.fracRecovered).toBeCloseTo(1, 3);
    expect(b.lossReconstructed).toBeCloseTo(b.lossZero, 5);
    expect(b.fracRecovered).toBeCloseTo(0, 5);
    expect(a.lossZero).not.toBeCloseTo(a.lossOriginal, 2);
    perfect.dispose();
    zero.dispose();
    model.dispose();
  });
});
