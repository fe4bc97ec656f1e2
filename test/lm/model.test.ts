import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tensor/backend.js';
import { makeConfig, parameterCount } from '../../src/lm/config.js';
import { Gpt, randomInitHost } from '../../src/lm/model.js';
import { expectedParamShapes } from '../../src/lm/params.js';

beforeAll(async () => {
  await initBackend();
});

const cfg = makeConfig({ nLayer: 2, nHead: 2, dModel: 16, nCtx: 8, vocabSize: 11 });

function logSoftmaxRow(row: Float32Array): Float64Array {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
  return Float64Array.from(row, (x) => x - lse);
}

describe('Gpt', () => {
  it('is causal: changing a later token never changes earlier logits', async () => {
    const m = Gpt.random(cfg, 3);
    const a = [1, 2, 3, 4, 5, 6, 7, 8];
    for (let changeAt = 0; changeAt < 8; changeAt++) {
      const b = [...a];
      b[changeAt] = (b[changeAt] + 5) % 11;
      const la = (await m.logits(Int32Array.from(a), 1, 8).array()) as number[][][];
      const lb = (await m.logits(Int32Array.from(b), 1, 8).array()) as number[][][];
      for (let t = 0; t < changeAt; t++) expect(lb[0][t]).toEqual(la[0][t]);
      // and the changed position itself does change
      expect(lb[0][changeAt]).not.toEqual(la[0][changeAt]);
    }
    m.dispose();
  });

  it('rows of a batch are independent', async () => {
    const m = Gpt.random(cfg, 4);
    const r1 = [1, 2, 3, 4, 5, 6, 7, 8];
    const r2 = [10, 9, 8, 7, 6, 5, 4, 3];
    const both = (await m.logits(Int32Array.from([...r1, ...r2]), 2, 8).array()) as number[][][];
    const one = (await m.logits(Int32Array.from(r2), 1, 8).array()) as number[][][];
    for (let t = 0; t < 8; t++) for (let v = 0; v < 11; v++) expect(both[1][t][v]).toBeCloseTo(one[0][t][v], 5);
    m.dispose();
  });

  it('nextTokenLoss is the mean cross-entropy of the logits (checked by hand)', async () => {
    const m = Gpt.random(cfg, 5);
    const toks = Int32Array.from([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3]);
    const logits = (await m.logits(toks, 2, 8).data()) as Float32Array;
    let sum = 0;
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < 7; t++) {
        const lp = logSoftmaxRow(logits.subarray((b * 8 + t) * 11, (b * 8 + t + 1) * 11));
        sum -= lp[toks[b * 8 + t + 1]];
      }
    }
    const loss = m.nextTokenLoss(tf.tensor2d(toks, [2, 8], 'int32'));
    expect((await loss.data())[0]).toBeCloseTo(sum / 14, 5);
    // ignoreIndex drops targets equal to it
    const masked = m.nextTokenLoss(tf.tensor2d(toks, [2, 8], 'int32'), { ignoreIndex: 5 });
    let s2 = 0;
    let n2 = 0;
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < 7; t++) {
        const tgt = toks[b * 8 + t + 1];
        if (tgt === 5) continue;
        s2 -= logSoftmaxRow(logits.subarray((b * 8 + t) * 11, (b * 8 + t + 1) * 11))[tgt];
        n2++;
      }
    }
    expect((await masked.data())[0]).toBeCloseTo(s2 / n2, 5);
    m.dispose();
  });

  it('hooks read every site, stopAfterLayer equals resid_post, and replacement changes the output', async () => {
    const m = Gpt.random(cfg, 6);
    const toks = tf.tensor2d(Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), [1, 8], 'int32');
    const cache = m.runWithCache(toks, [
      { layer: 0, site: 'resid_post' },
      { layer: 1, site: 'resid_pre' },
      { layer: 1, site: 'mlp_post' },
      { layer: 1, site: 'resid_mid' },
      { layer: 1, site: 'mlp_out' },
      { layer: 1, site: 'resid_post' },
    ]);
    expect(cache.get('blocks.1.mlp_post')!.shape).toEqual([1, 8, 64]);
    // resid_pre(1) = resid_post(0); resid_post(1) = resid_mid(1) + mlp_out(1)
    expect(await cache.get('blocks.1.resid_pre')!.array()).toEqual(await cache.get('blocks.0.resid_post')!.array());
    const sum = tf.add(cache.get('blocks.1.resid_mid')!, cache.get('blocks.1.mlp_out')!);
    const post = cache.get('blocks.1.resid_post')!;
    expect(tf.max(tf.abs(tf.sub(sum, post))).dataSync()[0]).toBeLessThan(1e-6);
    const early = m.forward(toks, { stopAfterLayer: 1 });
    expect(await early.array()).toEqual(await post.array());

    // Replacing the last block's output by zeros: ln_f(0) = ln_f bias (0 at init), so every
    // position then has the same logits (the head bias, here none => all zeros).
    const zeroed = m.forward(toks, { hook: (x, p) => (p.layer === 1 && p.site === 'resid_post' ? tf.zerosLike(x) : undefined) });
    const z = (await zeroed.data()) as Float32Array;
    for (const v of z) expect(Math.abs(v)).toBeLessThan(1e-6);
    const normal = (await m.forward(toks).data()) as Float32Array;
    expect(normal.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    for (const t of cache.values()) t.dispose();
    m.dispose();
  });

  it('random init is deterministic in the seed and follows the nanoGPT scheme', () => {
    const a = randomInitHost(cfg, 7);
    const b = randomInitHost(cfg, 7);
    const c = randomInitHost(cfg, 8);
    expect(a['blocks.0.attn.w_qkv'].data).toEqual(b['blocks.0.attn.w_qkv'].data);
    expect(a['blocks.0.attn.w_qkv'].data).not.toEqual(c['blocks.0.attn.w_qkv'].data);
    expect([...a['blocks.1.ln2.w'].data].every((x) => x === 1)).toBe(true);
    expect([...a['blocks.1.mlp.b_in'].data].every((x) => x === 0)).toBe(true);
    const std = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
    const big = makeConfig({ nLayer: 2, nHead: 4, dModel: 64, nCtx: 8, vocabSize: 11 });
    const w = randomInitHost(big, 1);
    expect(std(w['blocks.0.mlp.w_in'].data)).toBeCloseTo(0.02, 3);
    expect(std(w['blocks.0.mlp.w_out'].data)).toBeCloseTo(0.02 / Math.sqrt(4), 3);
    const n = Object.values(expectedParamShapes(big)).reduce((s, sh) => s + sh.reduce((p, q) => p * q, 1), 0);
    expect(parameterCount(big)).toBe(n);
  });

  it('frees all of its memory on dispose (forward passes included)', async () => {
    const before = tf.memory();
    const m = Gpt.random(cfg, 10);
    expect(tf.memory().numBytes - before.numBytes).toBeGreaterThanOrEqual(m.nParams * 4);
    for (let i = 0; i < 3; i++) {
      const l = m.logits(Int32Array.from([1, 2, 3, 4]), 1, 4);
      await l.data();
      l.dispose();
    }
    const toks = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
    m.nextTokenLoss(toks).dispose();
    toks.dispose();
    m.dispose();
    expect(tf.memory().numBytes).toBe(before.numBytes);
    expect(tf.memory().numTensors).toBe(before.numTensors);
  });

  it('rejects over-long inputs and unknown layers with clear errors', () => {
    const m = Gpt.random(cfg, 9);
    expect(() => m.forward(tf.zeros([1, 9], 'int32') as tf.Tensor2D)).toThrow(/exceeds the model's context 8/);
    expect(() => m.forward(tf.zeros([1, 4], 'int32') as tf.Tensor2D, { stopAfterLayer: 2 })).toThrow(/layer 2 does not exist.*0\.\.1/);
    m.dispose();
  });
});
