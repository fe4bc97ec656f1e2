import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/tensor/backend.js';
import { SQUARE_TO_TOKEN, RandomOthelloGames } from '../../src/games/othello/index.js';
import { loadModelDir, type LoadedModel } from '../../src/lm/checkpoint.js';
import { inMemorySequences } from '../../src/lm/data.js';
import { othelloLegalMoveRate } from '../../src/lm/legal.js';
import { SHIPPED_MODELS_DIR } from '../../src/lm/models.js';
import { collectProbeData } from '../../src/lm/probe-data.js';
import { trainProbe } from '../../src/lm/probe.js';
import { makeOthelloDataset } from './helpers.js';

// models/othello-board: the Othello GPT trained on an H200 by scripts/gpu/train_othello_lm.py
// (docs/lm.md). It must behave as measured there, on games generated here with seeds that neither
// its training stream nor its evaluation set used.
let trained: LoadedModel;
let twin: LoadedModel;
const tmp = mkdtempSync(path.join(tmpdir(), 'saeboard-othello-board-'));

beforeAll(async () => {
  await initBackend();
  trained = await loadModelDir(path.join(SHIPPED_MODELS_DIR, 'othello-board'));
  twin = await loadModelDir(path.join(SHIPPED_MODELS_DIR, 'othello-board-random'));
});

afterAll(() => {
  trained?.model.dispose();
  twin?.model.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

function othelloGames(n: number, seed: number) {
  const gen = new RandomOthelloGames({ seed, minMoves: 59 });
  const tokens = new Int32Array(n * 60);
  const sq = new Uint8Array(64);
  for (let g = 0; g < n; g++) {
    const len = gen.next(sq);
    for (let i = 0; i < len; i++) tokens[g * 60 + i] = SQUARE_TO_TOKEN[sq[i]];
  }
  return inMemorySequences({ game: 'othello', tokenizer: 'othello-61', tokens, length: 60 });
}

describe('othello-board (GPU-trained)', () => {
  it('is the 8-layer F16 model with its F16 random twin, each file ≤ 25 MB', () => {
    expect(trained.meta.model).toMatchObject({ nLayer: 8, dModel: 320, nHead: 8, nCtx: 59, vocabSize: 61 });
    expect(trained.meta.provenance).toMatchObject({ kind: 'trained', script: 'scripts/gpu/train_othello_lm.py' });
    expect(twin.meta.provenance).toMatchObject({ kind: 'random-init', randomInitOf: 'othello-board' });
    expect(twin.meta.model).toEqual(trained.meta.model);
    for (const n of ['othello-board', 'othello-board-random']) {
      expect(statSync(path.join(SHIPPED_MODELS_DIR, n, 'model.safetensors')).size).toBeLessThanOrEqual(25 * 2 ** 20);
    }
  });

  it('plays legal moves on fresh games; its random twin does not', async () => {
    const data = othelloGames(20, 90_011);
    const a = await othelloLegalMoveRate(trained.model, data);
    const b = await othelloLegalMoveRate(twin.model, data);
    expect(a.predictions).toBeGreaterThan(1100);
    // measured 99.7 % on 1000 held-out games (config.json metrics)
    expect(a.rate).toBeGreaterThan(0.98);
    expect(b.rate).toBeLessThan(0.5);
  });

  it('knows the board: a linear mine/yours/empty probe on layer 5 reads it from the residual stream', async () => {
    const dir = path.join(tmp, 'eval');
    await makeOthelloDataset(dir, { games: 90, seed: 90_012, families: 'mine_yours', minMoves: 59, testFraction: 1 / 3 });
    const accuracy = async (m: LoadedModel) => {
      const common = { model: m.model, modelTokenizer: 'othello-61', datasetDir: dir, layers: [5], families: ['mine_yours'] };
      const train = await collectProbeData({ ...common, split: 'train' });
      const test = await collectProbeData({ ...common, split: 'test' });
      const r = await trainProbe(train.families[0], train.d, { x: train.acts.get(5)!, y: train.labels.get('mine_yours')!, n: train.n }, { x: test.acts.get(5)!, y: test.labels.get('mine_yours')!, n: test.n }, { maxEpochs: 10 });
      return r;
    };
    const a = await accuracy(trained);
    const b = await accuracy(twin);
    // 97.4 % with 30,000 training positions and up to 40 epochs (config.json metrics); here 3,540
    // positions and 10 epochs give 93.4 % (twin 65.3 %, majority 54.0 %)
    expect(a.accuracy).toBeGreaterThan(0.9);
    expect(a.accuracy).toBeGreaterThan(a.baselineAccuracy + 0.3);
    expect(a.accuracy).toBeGreaterThan(b.accuracy + 0.2);
  }, 120_000); // ~10 s on 2 cores
});
