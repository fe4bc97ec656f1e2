import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/tensor/backend.js';
import { decodeChess, encodeChess } from '../../src/games/chess/index.js';
import { OthelloBoard, TOKEN_TO_SQUARE, SQUARE_TO_TOKEN } from '../../src/games/othello/index.js';
import { makeConfig } from '../../src/lm/config.js';
import { datasetSequences } from '../../src/lm/dataset.js';
import { chessLegalMoveRate, othelloLegalMoveRate, type Predictor } from '../../src/lm/legal.js';
import { Gpt } from '../../src/lm/model.js';
import { collectProbeData } from '../../src/lm/probe-data.js';
import { makeChessDataset, makeOthelloDataset } from './helpers.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'lm-dataset-'));
const othelloDir = path.join(tmp, 'othello');
const chessDir = path.join(tmp, 'chess');
beforeAll(async () => {
  await initBackend();
  await makeOthelloDataset(othelloDir, { games: 40, seed: 3, families: 'mine_yours', minMoves: 59 });
  await makeChessDataset(chessDir, { games: 12, seed: 4, families: 'piece' });
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A predictor that always puts its maximum on `choose(row prefix)`. */
function oracle(nCtx: number, vocabSize: number, choose: (prefix: Int32Array) => number): Predictor {
  return {
    nCtx,
    vocabSize,
    logits: async (tokens, B, T) => {
      const out = new Float32Array(B * T * vocabSize);
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) out[(b * T + t) * vocabSize + choose(tokens.subarray(b * T, b * T + t + 1))] = 1;
      return out;
    },
  };
}

describe('dataset token sources', () => {
  it('reads the same rows streaming and in memory, by split', async () => {
    const s = await datasetSequences(othelloDir, { split: 'test' });
    const m = await datasetSequences(othelloDir, { split: 'test', inMemory: true });
    expect(s.count).toBe(10);
    expect(s.length).toBe(60);
    expect(s.tokenizer).toBe('othello-61');
    expect(await s.read(2, 5)).toEqual(await m.read(2, 5));
    expect(s.gameIndexOf(0)).toBe(30);
    const all = await datasetSequences(othelloDir);
    expect(await all.read(30, 1)).toEqual(await s.read(0, 1));
  });

  it('drops chess games shorter than minLength', async () => {
    const all = await datasetSequences(chessDir);
    const long = await datasetSequences(chessDir, { minLength: 450 });
    expect(long.count).toBeLessThanOrEqual(all.count);
    for (let i = 0; i < long.count; i++) expect(decodeChess(await long.read(i, 1)).trimEnd().length).toBeGreaterThanOrEqual(450);
    await expect(datasetSequences(chessDir, { minLength: 100000 })).rejects.toThrow(/no games with at least 100000 tokens/);
  });
});

describe('legal-move rate', () => {
  it('Othello: an oracle that plays a valid move scores 100%, one that replays an occupied square 0%', async () => {
    const data = await datasetSequences(othelloDir, { split: 'test' });
    const valid = oracle(59, 61, (prefix) => {
      const b = new OthelloBoard();
      for (const t of prefix) b.play(TOKEN_TO_SQUARE[t]);
      const moves = b.validMoves();
      return moves.length ? SQUARE_TO_TOKEN[moves[moves.length - 1]] : 0;
    });
    const good = await othelloLegalMoveRate(valid, data);
    expect(good.rate).toBe(1);
    // one prediction per position 0..min(len−2, 58): 59 for a 60-move game, 58 for a 59-move one
    const rows = await data.read(0, 10);
    let expected = 0;
    for (let g = 0; g < 10; g++) expected += Math.min(rows.subarray(g * 60, g * 60 + 60).filter((t) => t !== 0).length - 1, 59);
    expect(good.predictions).toBe(expected);
    const bad = await othelloLegalMoveRate(oracle(59, 61, (prefix) => prefix[0]), data);
    expect(bad.rate).toBe(0);
  });

  it('splits the rate by move number: an oracle that loses track after move 10 is perfect only in the first bucket', async () => {
    const data = await datasetSequences(othelloDir, { split: 'test' });
    const early = oracle(59, 61, (prefix) => {
      if (prefix.length > 9) return prefix[0]; // predicting move index ≥ 10: occupied square
      const b = new OthelloBoard();
      for (const t of prefix) b.play(TOKEN_TO_SQUARE[t]);
      return SQUARE_TO_TOKEN[b.validMoves()[0]];
    });
    const r = await othelloLegalMoveRate(early, data);
    expect(r.byPly[0]).toMatchObject({ from: 0, to: 9, rate: 1 });
    expect(r.byPly[0].predictions).toBe(9 * 10); // moves 1..9 of each of the 10 test games
    expect(r.byPly.slice(1).every((b) => b.rate === 0)).toBe(true);
    expect(r.byPly.reduce((n, b) => n + b.predictions, 0)).toBe(r.predictions);
  });

  it('chess: an oracle that continues the real game scores 100%, one that writes "Ke9" 0%', async () => {
    const data = await datasetSequences(chessDir, { split: 'all', minLength: 256 });
    const texts: string[] = [];
    for (let i = 0; i < data.count; i++) texts.push(decodeChess(await data.read(i, 1)).trimEnd());
    const follow = oracle(512, 32, (prefix) => {
      const p = decodeChess(prefix);
      const g = texts.find((t) => t.startsWith(p));
      return g ? encodeChess(g[p.length] ?? ' ')[0] : 0; // padded tails of a batch match nothing
    });
    const good = await chessLegalMoveRate(follow, data, { games: 4 });
    expect(good.predictions).toBeGreaterThan(4 * 20);
    expect(good.rate).toBe(1);
    expect(good.byPly[0]).toMatchObject({ from: 0, to: 9, predictions: 4 * 10, rate: 1 });
    expect(good.byPly.reduce((n, b) => n + b.predictions, 0)).toBe(good.predictions);
    const junk = oracle(512, 32, (prefix) => {
      const p = decodeChess(prefix);
      const last = p.slice(p.lastIndexOf(' ') + 1).replace(/^\d+\./, '');
      return encodeChess('Ke9 '[Math.min(last.length, 3)])[0];
    });
    const bad = await chessLegalMoveRate(junk, data, { games: 4 });
    expect(bad.rate).toBe(0);
  });
});

describe('probe data', () => {
  it('collects one activation row per labelled position of the split', async () => {
    const model = Gpt.random(makeConfig({ nLayer: 3, nHead: 2, dModel: 16, nCtx: 59, vocabSize: 61 }), 1);
    const pd = await collectProbeData({ model, modelTokenizer: 'othello-61', datasetDir: othelloDir, split: 'train', layers: [0, 2], families: ['mine_yours'] });
    expect(pd.n).toBe(30 * 59);
    expect(pd.acts.get(2)!.length).toBe(30 * 59 * 16);
    expect(pd.labels.get('mine_yours')!.length).toBe(30 * 59 * 64 * 3);
    // position 0 of game 0 is the board after the first move: 5 discs (4 "mine"), 59 empty squares
    const y = pd.labels.get('mine_yours')!;
    const count = (cls: number) => Array.from({ length: 64 }, (_, sq) => y[sq * 3 + cls]).reduce((a, b) => a + b, 0);
    expect(count(1)).toBe(59); // classes: yours, empty, mine
    expect(count(2)).toBe(4);
    expect(count(0)).toBe(1);
    await expect(collectProbeData({ model, modelTokenizer: 'chess-char-32', datasetDir: othelloDir, split: 'train', layers: [0], families: ['mine_yours'] })).rejects.toThrow(/tokenizer mismatch/);
    model.dispose();
  });
});
