import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tensor/backend.js';
import { loadModelDir, type CheckpointMeta } from '../../src/lm/checkpoint.js';
import { makeConfig } from '../../src/lm/config.js';
import { inMemorySequences } from '../../src/lm/data.js';
import { Gpt } from '../../src/lm/model.js';
import { AdamW, clipByGlobalNorm, learningRate } from '../../src/lm/optim.js';
import { batchRowIndices, DEFAULT_TRAIN_OPTIONS, trainLm, type TrainOptions } from '../../src/lm/train.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'lm-train-'));
beforeAll(async () => {
  await initBackend();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cfg = makeConfig({ nLayer: 2, nHead: 2, dModel: 16, nCtx: 8, vocabSize: 61 });
const meta: CheckpointMeta = { format: 'saeboard-lm/1', name: 'tiny', game: 'othello', tokenizer: 'othello-61', model: cfg, provenance: { kind: 'trained' } };

/** Rows of 9 tokens following a simple rule (t[i+1] = t[i] + step mod 60, +1), so loss can fall. */
function patternRows(n: number, seed: number): Int32Array {
  const out = new Int32Array(n * 9);
  for (let r = 0; r < n; r++) {
    const step = 1 + ((r * 7 + seed) % 5);
    let t = (r * 13 + seed) % 60;
    for (let i = 0; i < 9; i++) {
      out[r * 9 + i] = t + 1;
      t = (t + step) % 60;
    }
  }
  return out;
}
const train = inMemorySequences({ game: 'othello', tokenizer: 'othello-61', tokens: patternRows(64, 0), length: 9, source: 'train' });
const heldOut = inMemorySequences({ game: 'othello', tokenizer: 'othello-61', tokens: patternRows(16, 3), length: 9, source: 'held-out' });
const opts: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, steps: 6, batchSize: 4, lr: 3e-3, warmupSteps: 2, evalInterval: 3, evalRows: 16, checkpointInterval: 3, seed: 11 };

function losses(dir: string): number[] {
  return readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { loss?: number })
    .filter((l) => l.loss !== undefined)
    .map((l) => l.loss!);
}

describe('schedule and optimizer pieces', () => {
  it('warm-up then cosine to minLr, as nanoGPT get_lr', () => {
    const s = { lr: 1, minLr: 0.1, warmupSteps: 10, decaySteps: 110 };
    expect(learningRate(s, 0)).toBeCloseTo(1 / 11);
    expect(learningRate(s, 9)).toBeCloseTo(10 / 11);
    expect(learningRate(s, 10)).toBeCloseTo(1);
    expect(learningRate(s, 60)).toBeCloseTo(0.55);
    expect(learningRate(s, 110)).toBeCloseTo(0.1);
    expect(learningRate(s, 500)).toBe(0.1);
  });

  it('AdamW step matches the torch formula on a hand example', () => {
    const w = tf.variable(tf.tensor2d([[1, -2]], [1, 2]));
    const b = tf.variable(tf.tensor1d([0.5]));
    const opt = new AdamW([{ name: 'b', variable: b }, { name: 'w', variable: w }], { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 });
    opt.apply({ w: tf.tensor2d([[0.2, 0.4]], [1, 2]), b: tf.tensor1d([-1]) }, 0.1);
    // first step: m̂ = g, v̂ = g², update = lr·g/|g| = ±lr; decay only on the matrix
    const wv = w.dataSync();
    expect(wv[0]).toBeCloseTo(1 * (1 - 0.01) - 0.1, 5);
    expect(wv[1]).toBeCloseTo(-2 * (1 - 0.01) - 0.1, 5);
    expect(b.dataSync()[0]).toBeCloseTo(0.5 + 0.1, 5);
    opt.dispose();
  });

  it('clips by global norm', () => {
    const g = { a: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]) };
    const { clipped, norm } = clipByGlobalNorm(g, 1);
    expect(norm).toBeCloseTo(5);
    expect(Array.from(clipped.a.dataSync())[0]).toBeCloseTo(0.6, 5);
    expect(Array.from(clipped.b.dataSync())[1]).toBeCloseTo(0.8, 5);
  });

  it('data order depends only on (seed, step) and covers every row once per epoch', () => {
    const seen = new Set<number>();
    for (let s = 0; s < 16; s++) for (const i of batchRowIndices(64, 4, 5, s)) seen.add(i);
    expect(seen.size).toBe(64);
    expect(Array.from(batchRowIndices(64, 4, 5, 20))).toEqual(Array.from(batchRowIndices(64, 4, 5, 20, new Map())));
    expect(Array.from(batchRowIndices(64, 4, 5, 3))).not.toEqual(Array.from(batchRowIndices(64, 4, 6, 3)));
  });
});

describe('trainLm', () => {
  it('learns, checkpoints, and resumes with bit-identical losses', async () => {
    const full = path.join(tmp, 'full');
    const r1 = await trainLm({ outDir: full, meta, train, heldOut, options: opts });
    expect(r1.state.step).toBe(6);
    const straight = losses(full);
    expect(straight).toHaveLength(6);

    // interrupted run: stop after 3 steps (as if killed right after the step-3 checkpoint)...
    const cut = path.join(tmp, 'cut');
    let n = 0;
    const r2 = await trainLm({ outDir: cut, meta, train, heldOut, options: opts, onStep: () => n++, shouldStop: () => n >= 3 });
    expect(r2.stoppedEarly).toBe(true);
    expect(r2.state.step).toBe(3);
    // ...then a fresh call resumes from ckpt-00000003 and must reproduce steps 4..6 exactly
    const r3 = await trainLm({ outDir: cut, meta, train, heldOut, options: opts });
    expect(r3.resumedFrom).toBe(3);
    expect(losses(cut)).toEqual(straight);
    expect(r3.evalLoss).toBe(r1.evalLoss);

    // only the newest checkpoint keeps its optimizer; older ones stay loadable snapshots
    const ckpts = readdirSync(cut).filter((d) => d.startsWith('ckpt-')).sort();
    expect(ckpts).toEqual(['ckpt-00000003', 'ckpt-00000006']);
    expect(existsSync(path.join(cut, 'ckpt-00000003', 'optimizer.safetensors'))).toBe(false);
    expect(existsSync(path.join(cut, 'ckpt-00000006', 'optimizer.safetensors'))).toBe(true);
    const { model, meta: m } = await loadModelDir(path.join(cut, 'ckpt-00000006'));
    expect(m.training?.step).toBe(6);
    // the saved weights reproduce the saved eval loss
    const a = await loadModelDir(path.join(full, 'ckpt-00000006'));
    expect(await model.toHost()).toEqual(await a.model.toHost());
    model.dispose();
    a.model.dispose();
  });

  it('resuming with different options is refused with the option named', async () => {
    const dir = path.join(tmp, 'cut');
    await expect(trainLm({ outDir: dir, meta, train, heldOut, options: { ...opts, lr: 1e-2 } })).rejects.toThrow(/option "lr" was 0\.003, now 0\.01/);
  });

  it('loss goes down on learnable data', async () => {
    const dir = path.join(tmp, 'learn');
    const r = await trainLm({ outDir: dir, meta, train, heldOut, options: { ...opts, steps: 60, lr: 1e-2, evalInterval: 60, checkpointInterval: 60, warmupSteps: 5 } });
    const ls = losses(dir);
    expect(ls[0]).toBeGreaterThan(3.8); // ≈ ln 61 at init
    expect(ls.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(ls[0] - 1);
    // held-out rows follow the same rule with other starts: their loss falls too
    const evals = readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { evalLoss?: number }).filter((l) => l.evalLoss !== undefined);
    expect(evals[0].evalLoss!).toBeGreaterThan(3.8);
    expect(r.evalLoss!).toBeLessThan(evals[0].evalLoss! - 0.2);
  });

  it('does not leak tensors across 100 training steps', async () => {
    const dir = path.join(tmp, 'leak');
    let at10 = -1;
    let at100 = -1;
    await trainLm({
      outDir: dir, meta, train, heldOut, options: { ...opts, steps: 100, evalInterval: 25, checkpointInterval: 50 },
      onStep: ({ step }) => {
        if (step === 10) at10 = tf.memory().numTensors;
        if (step === 100) at100 = tf.memory().numTensors;
      },
    });
    expect(at10).toBeGreaterThan(0);
    expect(at100).toBe(at10);
  });

  it('refuses a dataset whose tokenizer does not match the model', async () => {
    const chess = inMemorySequences({ game: 'chess', tokenizer: 'chess-char-32', tokens: new Int32Array(18), length: 9 });
    await expect(trainLm({ outDir: path.join(tmp, 'bad'), meta, train: chess, options: opts })).rejects.toThrow(/tokenizer mismatch: the model uses "othello-61" but dataset in-memory uses "chess-char-32"/);
  });
});
