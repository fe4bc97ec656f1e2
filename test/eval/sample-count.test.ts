/**
 * The feature maxima and the alive set come from min(int(0.5·n), 1000)·ctx_len activation vectors
 * of the n D_train games (metrics.md §2), for every n — here n = 20, far below 1000.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEvaluation } from '../../src/jobs/eval.js';
import { defaultSampleGames } from '../../src/jobs/eval-inputs.js';
import { initBackend } from '../../src/tensor/backend.js';
import { makeLm, makeOthelloDataset, makeSae } from './fixtures.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'saeboard-sample-'));
let datasetDir: string;
let saeDir: string;

beforeAll(async () => {
  await initBackend();
  datasetDir = await makeOthelloDataset(path.join(tmp, 'data'), 40); // 20 train + 20 test games
  const lmDir = await makeLm(path.join(tmp, 'lm'), 'othello', 2);
  saeDir = await makeSae(path.join(tmp, 'sae'), { lmDir, layer: 1 });
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('feature maxima sample', () => {
  it('is min(⌊n/2⌋, 1000) games: the spec count at any n', () => {
    expect([1, 2, 3, 20, 999, 1000, 1999, 2000, 2001, 50_000].map(defaultSampleGames)).toEqual([1, 1, 1, 10, 499, 500, 999, 1000, 1000, 1000]);
  });

  it('draws ⌊n/2⌋·ctx vectors from n = 20 D_train games, and that choice changes the result', async () => {
    const run = (maxSampleGames?: number) => runEvaluation({ saeDirs: [saeDir], datasetDir, families: 'board_state', lmBatchSize: 8, pool: null, exportDir: null, maxSampleGames });
    const [byDefault] = await run();
    const [ten] = await run(10);
    const [all] = await run(20);
    expect(byDefault.result.maximaSamples).toBe(10 * 59);
    expect(all.result.maximaSamples).toBe(20 * 59);
    // The default is exactly the 10-game sample, and differs from the old all-games sample.
    expect(byDefault.result.aliveFeatures).toBe(ten.result.aliveFeatures);
    expect(byDefault.result.families[0].coverage).toEqual(ten.result.families[0].coverage);
    expect(byDefault.evalConfigHash).toBe(ten.evalConfigHash);
    expect(byDefault.evalConfigHash).not.toBe(all.evalConfigHash);
  });
});
