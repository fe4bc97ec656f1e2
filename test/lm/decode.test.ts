import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tensor/backend.js';
import { makeConfig } from '../../src/lm/config.js';
import { CachedDecoder, Gpt } from '../../src/lm/model.js';
import { Rng } from '../../src/lm/rng.js';

beforeAll(async () => {
  await initBackend();
});

/** Last-position logits of a full, uncached forward pass over `row`. */
async function lastLogits(m: Gpt, row: number[]): Promise<Float32Array> {
  const l = m.logits(Int32Array.from(row), 1, row.length);
  const all = (await l.data()) as Float32Array;
  l.dispose();
  const V = m.config.vocabSize;
  return all.slice((row.length - 1) * V, row.length * V);
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
}

describe('CachedDecoder', () => {
  it('gives the same next-token logits as re-running the whole prefix, for prefixes of different lengths', async () => {
    const cfg = makeConfig({ nLayer: 3, nHead: 4, dModel: 32, nCtx: 24, vocabSize: 13 });
    const before = tf.memory().numTensors; // the model's own causal masks go with it
    const m = Gpt.random(cfg, 5);
    const rng = new Rng(9);
    const rows = [3, 11, 1, 7].map((len) => Array.from({ length: len }, () => rng.int(13)));
    const dec = new CachedDecoder(m, rows);
    let got = await dec.start();
    for (let step = 0; step <= 5; step++) {
      for (let b = 0; b < rows.length; b++) {
        const want = await lastLogits(m, rows[b]);
        expect(maxRelDiff(got.slice(b * 13, (b + 1) * 13), want)).toBeLessThan(1e-4);
      }
      if (step === 5) break;
      const appended = Int32Array.from(rows, () => rng.int(13));
      rows.forEach((r, b) => r.push(appended[b]));
      got = await dec.next(appended);
    }
    dec.dispose();
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses empty prefixes and decoding past the context, without leaking tensors', async () => {
    const before = tf.memory().numTensors;
    const m = Gpt.random(makeConfig({ nLayer: 1, nHead: 2, dModel: 8, nCtx: 4, vocabSize: 5 }), 1);
    expect(() => new CachedDecoder(m, [[1], []])).toThrow(/non-empty prefix/);
    expect(() => new CachedDecoder(m, [[1, 2, 3, 4, 0]])).toThrow(/exceeds the model's context 4/);
    const dec = new CachedDecoder(m, [[1, 2], [3, 4, 0]]);
    await dec.start();
    await dec.next(Int32Array.from([1, 1]));
    await expect(dec.next(Int32Array.from([1, 1]))).rejects.toThrow(/past the model's context 4/);
    dec.dispose();
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
