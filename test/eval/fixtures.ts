/**
 * Tiny, real inputs for the evaluation pipeline, made on the fly in a temp directory: an Othello
 * dataset (random legal games, board_state + valid_moves labels), random-init GPTs (Othello and
 * chess vocabularies) saved as LM checkpoints, and ReLU SAEs saved in saeboard's format whose
 * provenance names the LM and layer they read.
 */
import path from 'node:path';
import { adapterFor, othelloRandomSource, resolveFamilies, writeDataset } from '../../src/games/dataset/index.js';
import { saveModelDir, type CheckpointMeta } from '../../src/lm/checkpoint.js';
import { makeConfig, type GptConfig } from '../../src/lm/config.js';
import { randomInitHost } from '../../src/lm/model.js';
import { createDictionary, dictionaryConfig, initDictionaryTensors, saveDictionary, Rng } from '../../src/sae/index.js';

export async function makeOthelloDataset(dir: string, games = 40, families = 'board_state,valid_moves'): Promise<string> {
  const adapter = adapterFor('othello');
  await writeDataset({
    out: dir,
    adapter,
    families: resolveFamilies(adapter, families),
    source: othelloRandomSource({ games, seed: 3, minMoves: 59 }),
    testFraction: 0.5,
    showProgress: false,
  });
  return dir;
}

export function tinyConfig(game: 'othello' | 'chess'): GptConfig {
  return makeConfig({ nLayer: 2, nHead: 2, dModel: 16, nCtx: game === 'othello' ? 59 : 256, vocabSize: game === 'othello' ? 61 : 32 });
}

export async function makeLm(dir: string, game: 'othello' | 'chess', seed = 1, name = `tiny-${game}`, poison = false): Promise<string> {
  const config = tinyConfig(game);
  const meta: CheckpointMeta = {
    format: 'saeboard-lm/1',
    name,
    game,
    tokenizer: game === 'othello' ? 'othello-61' : 'chess-char-32',
    model: config,
    provenance: { kind: 'random-init', seed },
  };
  const tensors = randomInitHost(config, seed);
  if (poison) Object.values(tensors)[0].data[5] = NaN;
  await saveModelDir(dir, meta, tensors);
  return dir;
}

export async function makeSae(dir: string, opts: { lmDir: string; layer: number; dIn?: number; dictSize?: number; seed?: number; poison?: boolean }): Promise<string> {
  const dIn = opts.dIn ?? 16;
  const F = opts.dictSize ?? 48;
  const tensors = initDictionaryTensors('relu', dIn, F, new Rng(opts.seed ?? 5));
  // A small negative encoder bias (pre-activations of a random GPT are ~0.02) makes the SAE sparse.
  tensors.b_enc.fill(-0.01);
  if (opts.poison) tensors.W_enc[3] = NaN;
  const dict = createDictionary('relu', dIn, F, tensors);
  await saveDictionary(dir, dict, dictionaryConfig(dict, null, { step: 100, provenance: { lm: { dir: path.resolve(opts.lmDir) }, layer: opts.layer, site: 'resid_post' } }));
  dict.dispose();
  return dir;
}

export async function makeChessDataset(dir: string, games = 8): Promise<string> {
  const { chessRandomSource } = await import('../../src/games/dataset/index.js');
  const adapter = adapterFor('chess');
  await writeDataset({
    out: dir,
    adapter,
    families: resolveFamilies(adapter, 'default'),
    source: chessRandomSource({ games, seed: 2, minChars: 400 }),
    testFraction: 0.5,
    showProgress: false,
  });
  return dir;
}
