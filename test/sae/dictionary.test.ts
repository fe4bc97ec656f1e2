import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tensor/backend.js';
import {
  createDictionary,
  dictionaryConfig,
  initDictionaryTensors,
  loadSaeDir,
  resolveTrainerConfig,
  Rng,
  saveDictionary,
} from '../../src/sae/index.js';
import { BatchTopKDictionary } from '../../src/sae/dictionaries/index.js';

const f32 = (a: number[]) => new Float32Array(a);
// d = 2, F = 3 (hand-checked values in each case)
const W_enc = f32([1, 0, -1, 0, 1, 1]);
const b_enc = f32([0, -0.5, 0.1]);
const W_dec = f32([1, 0, 0, 1, 0.6, 0.8]);
const b_dec = f32([1, 0]);
const X = [
  [2, 1],
  [0, 0],
];

function encodeRows(name: Parameters<typeof createDictionary>[0], tensors: Record<string, Float32Array>, meta = {}) {
  const dict = createDictionary(name, 2, 3, tensors, meta);
  const x = tf.tensor2d(X);
  const { xHat_BD, feats_BF } = dict.forward(x);
  const out = { f: feats_BF.arraySync(), xHat: xHat_BD.arraySync() };
  tf.dispose([x, xHat_BD, feats_BF]);
  dict.dispose();
  return out;
}

let tmp: string;
beforeAll(async () => {
  await initBackend();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'sae-dict-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('dictionaries encode as their dictionary_learning classes', () => {
  it('relu: ReLU((x − b_dec) W_enc + b_enc), x̂ = f W_dec + b_dec', () => {
    const { f, xHat } = encodeRows('relu', { W_enc, b_enc, W_dec, b_dec });
    // x = (2,1): x − b_dec = (1,1), pre = (1, 0.5, 0.1)
    expect(f[0][0]).toBeCloseTo(1, 6);
    expect(f[0][1]).toBeCloseTo(0.5, 6);
    expect(f[0][2]).toBeCloseTo(0.1, 6);
    expect(xHat[0][0]).toBeCloseTo(2.06, 5);
    expect(xHat[0][1]).toBeCloseTo(0.58, 5);
    // x = (0,0): pre = (−1, −0.5, 1.1)
    expect(f[1]).toEqual([0, 0, expect.closeTo(1.1, 6)]);
  });

  it('gated: 1[π_gate > 0] ⊙ ReLU(exp(r_mag) ⊙ z + b_mag)', () => {
    const { f } = encodeRows('gated', {
      W_enc,
      r_mag: f32([0, Math.log(2), 0]),
      b_gate: f32([0, 0, -2]),
      b_mag: f32([0.5, 0, 0]),
      W_dec,
      b_dec,
    });
    // z = (1, 1, 0); gate = (1, 1, 0); mag = (1.5, 2, 0)
    expect(f[0][0]).toBeCloseTo(1.5, 6);
    expect(f[0][1]).toBeCloseTo(2, 5);
    expect(f[0][2]).toBe(0);
  });

  it('top_k keeps the k largest ReLU pre-activations per row', () => {
    const { f } = encodeRows('top_k', { W_enc, b_enc, W_dec, b_dec }, { k: 1 });
    expect(f[0]).toEqual([1, 0, 0]);
    expect(f[1][2]).toBeCloseTo(1.1, 6);
    expect(f[1][0] + f[1][1]).toBe(0);
  });

  it('batch_top_k: global threshold at eval time, k·B largest of the batch in training', () => {
    const { f } = encodeRows('batch_top_k', { W_enc, b_enc, W_dec, b_dec, threshold: f32([0.3]) }, { k: 1 });
    expect(f[0][0]).toBeCloseTo(1, 6);
    expect(f[0][1]).toBeCloseTo(0.5, 6);
    expect(f[0][2]).toBe(0);
    const dict = createDictionary('batch_top_k', 2, 3, { W_enc, b_enc, W_dec, b_dec, threshold: f32([0.3]) }, { k: 1 }) as BatchTopKDictionary;
    const x = tf.tensor2d(X);
    const fb = dict.encodeBatchTopK(x);
    // top 2 of the batch: 1.1 (row 1) and 1 (row 0)
    const got = fb.arraySync();
    expect(got[0][0]).toBeCloseTo(1, 6);
    expect(got[0][1]).toBe(0);
    expect(got[1][2]).toBeCloseTo(1.1, 6);
    tf.dispose([x, fb]);
    dict.dispose();
  });

  it('jump_relu: ReLU(pre ⊙ 1[pre > θ]) without b_dec on the input', () => {
    const { f } = encodeRows('jump_relu', { W_enc, b_enc, W_dec, b_dec, threshold: f32([0.9, 0.6, -1]) });
    // pre = x W_enc + b_enc = (2, 0.5, −0.9)
    expect(f[0]).toEqual([2, 0, 0]);
  });

  it('rejects tensors of the wrong size, naming the tensor', () => {
    expect(() => createDictionary('relu', 2, 3, { W_enc, b_enc: f32([0]), W_dec, b_dec })).toThrow(/b_enc/);
  });
});

describe('initialisation', () => {
  it('is deterministic per seed and follows dictionary_learning (unit decoder rows, zero b_dec)', () => {
    for (const name of ['relu', 'gated', 'top_k', 'batch_top_k', 'jump_relu'] as const) {
      const a = initDictionaryTensors(name, 8, 32, new Rng(42));
      const b = initDictionaryTensors(name, 8, 32, new Rng(42));
      expect(a.W_dec).toEqual(b.W_dec);
      for (let r = 0; r < 32; r++) {
        let s = 0;
        for (let c = 0; c < 8; c++) s += a.W_dec[r * 8 + c] ** 2;
        expect(Math.sqrt(s)).toBeCloseTo(1, 5);
      }
      expect(a.b_dec.every((v) => v === 0)).toBe(true);
    }
    // top_k: the decoder is the (row-normalised) encoder, so W_enc columns are parallel to W_dec rows
    const t = initDictionaryTensors('top_k', 4, 6, new Rng(1));
    const col0 = [0, 1, 2, 3].map((i) => t.W_enc[i * 6]);
    const n0 = Math.hypot(...col0);
    col0.forEach((v, i) => expect(v / n0).toBeCloseTo(t.W_dec[i], 5));
    // relu encoder weights lie in U(±1/√d)
    const r = initDictionaryTensors('relu', 16, 64, new Rng(3));
    expect(Math.max(...r.W_enc.map(Math.abs))).toBeLessThanOrEqual(0.25);
  });
});

describe('storage', () => {
  it('round-trips weights, meta and the trainer config through ae.safetensors + config.json', async () => {
    const cfg = resolveTrainerConfig({ trainer: 'top_k', dIn: 8, dictSize: 32, k: 4, steps: 100 });
    const dict = createDictionary('top_k', 8, 32, initDictionaryTensors('top_k', 8, 32, new Rng(5)), { k: 4 });
    const dir = path.join(tmp, 'topk');
    await saveDictionary(dir, dict, dictionaryConfig(dict, cfg, { step: 7 }));
    const { dictionary, config } = await loadSaeDir(dir);
    expect(config.trainer).toEqual(cfg);
    expect(config.step).toBe(7);
    expect(dictionary.meta.k).toBe(4);
    const a = dict.toHost();
    const b = dictionary.toHost();
    for (const k of Object.keys(a)) expect(b[k].data).toEqual(a[k].data);
    dict.dispose();
    dictionary.dispose();
  });

  it('does not leak tensors', () => {
    const before = tf.memory().numTensors;
    encodeRows('gated', { W_enc, r_mag: f32([0, 0, 0]), b_gate: b_enc, b_mag: b_enc, W_dec, b_dec });
    encodeRows('top_k', { W_enc, b_enc, W_dec, b_dec }, { k: 2 });
    expect(tf.memory().numTensors).toBe(before);
  });
});
