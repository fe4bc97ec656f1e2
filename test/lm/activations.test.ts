import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tensor/backend.js';
import { activationBatches, dotPositions, readActivations, writeActivations } from '../../src/lm/activations.js';
import { makeConfig } from '../../src/lm/config.js';
import { inMemorySequences } from '../../src/lm/data.js';
import { Gpt } from '../../src/lm/model.js';
import { encodeChess } from '../../src/games/chess/vocab.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'lm-acts-'));
beforeAll(async () => {
  await initBackend();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cfg = makeConfig({ nLayer: 3, nHead: 2, dModel: 16, nCtx: 32, vocabSize: 32 });

describe('activation stream', () => {
  it('streams resid_post of a layer at every position, matching a direct forward pass', async () => {
    const m = Gpt.random(cfg, 1);
    const tokens = new Int32Array(5 * 10).map((_, i) => (i * 7) % 32);
    const data = inMemorySequences({ game: 'chess', tokenizer: 'chess-char-32', tokens, length: 10 });
    const batches = [];
    for await (const b of activationBatches({ model: m, layer: 1, data, batchSize: 2, tokenizer: 'chess-char-32' })) batches.push(b);
    expect(batches.map((b) => b.n)).toEqual([20, 20, 10]);
    const direct = (await m.forward(tf.tensor2d(tokens, [5, 10], 'int32'), { stopAfterLayer: 1 }).data()) as Float32Array;
    const streamed = new Float32Array(50 * 16);
    let o = 0;
    for (const b of batches) {
      streamed.set(b.acts_ND, o);
      o += b.acts_ND.length;
    }
    // equal up to float rounding: BLAS may sum in another order for another batch shape
    let maxDiff = 0;
    for (let i = 0; i < direct.length; i++) maxDiff = Math.max(maxDiff, Math.abs(streamed[i] - direct[i]));
    expect(maxDiff).toBeLessThan(1e-5);
    expect(Array.from(batches[2].gameIndex)).toEqual([4, 4, 4, 4, 4, 4, 4, 4, 4, 4]);
    expect(Array.from(batches[0].position.slice(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);

    // other sites come through the hook
    for await (const b of activationBatches({ model: m, layer: 2, site: 'mlp_post', data, count: 1 })) {
      expect(b.d).toBe(64);
      expect(b.n).toBe(10);
    }
    m.dispose();
  });

  it("selects the first 20 '.' positions of chess rows", async () => {
    const game = ';1.e4 e5 2.Nf3 Nc6 3.Bb5 a6 4.Ba4 Nf6 5.O-O Be7 6.Re1 b5 7.Bb3 d6 8.c3 O-O';
    const row = Int32Array.from(encodeChess(game.slice(0, 32)));
    expect(dotPositions(row, 4, 20)).toEqual([2, 10, 20, 29]);
    expect(dotPositions(row, 4, 2)).toEqual([2, 10]);
    const m = Gpt.random(cfg, 2);
    const data = inMemorySequences({ game: 'chess', tokenizer: 'chess-char-32', tokens: row, length: 32 });
    const [b] = await collect(activationBatches({ model: m, layer: 0, data, positions: 'dots' }));
    expect(Array.from(b.position)).toEqual([2, 10, 20, 29]);
    const all = (await m.forward(tf.tensor2d(row, [1, 32], 'int32'), { stopAfterLayer: 0 }).data()) as Float32Array;
    expect(b.acts_ND.subarray(16, 32)).toEqual(all.subarray(10 * 16, 11 * 16));
    m.dispose();
  });

  it('rejects a tokenizer mismatch, an unknown layer and dots without a dot token', async () => {
    const m = Gpt.random(cfg, 3);
    const data = inMemorySequences({ game: 'othello', tokenizer: 'othello-61', tokens: new Int32Array(20), length: 10 });
    await expect(collect(activationBatches({ model: m, layer: 0, data, tokenizer: 'chess-char-32' }))).rejects.toThrow(/tokenizer mismatch.*"chess-char-32".*"othello-61"/);
    await expect(collect(activationBatches({ model: m, layer: 3, data }))).rejects.toThrow(/layer 3 does not exist/);
    await expect(collect(activationBatches({ model: m, layer: 0, data, positions: 'dots' }))).rejects.toThrow(/'\.' token/);
    m.dispose();
  });

  it('writes sharded directories and reads them back (f32 exact, f16 rounded)', async () => {
    const m = Gpt.random(cfg, 4);
    const tokens = new Int32Array(7 * 8).map((_, i) => (i * 5 + 3) % 32);
    const data = inMemorySequences({ game: 'chess', tokenizer: 'chess-char-32', tokens, length: 8 });
    const ref = (await m.forward(tf.tensor2d(tokens, [7, 8], 'int32'), { stopAfterLayer: 2 }).data()) as Float32Array;
    for (const dtype of ['float32', 'float16'] as const) {
      const dir = path.join(tmp, dtype);
      const manifest = await writeActivations({ model: m, layer: 2, data, outDir: dir, dtype, shardSize: 20, batchSize: 3 });
      expect(manifest.count).toBe(56);
      expect(manifest.shards.map((s) => s.count)).toEqual([20, 20, 16]);
      const back = await collect(readActivations(dir));
      const acts = new Float32Array(56 * 16);
      const gi: number[] = [];
      let o = 0;
      for (const b of back) {
        acts.set(b.acts_ND, o);
        o += b.acts_ND.length;
        gi.push(...b.gameIndex);
      }
      expect(gi.slice(0, 9)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1]);
      if (dtype === 'float32') expect(acts).toEqual(ref);
      else for (let i = 0; i < acts.length; i++) expect(Math.abs(acts[i] - ref[i])).toBeLessThanOrEqual(Math.abs(ref[i]) * 1e-3 + 1e-4);
    }
    m.dispose();
  });
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
