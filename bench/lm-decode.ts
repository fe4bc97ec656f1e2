/**
 * Greedy decoding speed: the chess legal-move rate (src/lm/legal.ts) of a shipped model with the
 * key/value-cached decoder (CachedDecoder) next to the peer, re-running every prefix for each
 * generated character (what decoding did before the cache), in the same run on the same games.
 * Both must make the same predictions; the bench checks that too.
 *
 *   npm run bench -- lm-decode [--model chess-small] [--games 12] [--reps 1]
 *
 * Games: random legal-move games (seed 1, ≥ 300 characters) generated into a temporary directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Bench } from './harness.js';
import { backendInfo, initBackend } from '../src/tensor/backend.js';
import { adapterFor, chessRandomSource, resolveFamilies, writeDataset } from '../src/games/dataset/index.js';
import { loadModelDir } from '../src/lm/checkpoint.js';
import { datasetSequences } from '../src/lm/dataset.js';
import { chessLegalMoveRate, gptPredictor, type LegalMoveResult } from '../src/lm/legal.js';
import { resolveModelPath } from '../src/lm/models.js';

export default async function (h: Bench): Promise<void> {
  await initBackend();
  const games = Number(h.option('games', '12'));
  const reps = Number(h.option('reps', '1'));
  const dir = resolveModelPath(h.option('model', 'chess-small'));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-lm-decode-'));
  const { model, meta } = await loadModelDir(dir);
  try {
    if (meta.game !== 'chess') throw new Error(`lm-decode measures chess SAN decoding; ${meta.name} is a ${meta.game} model`);
    const adapter = adapterFor('chess', { tokensPerGame: 512 });
    await writeDataset({
      out: path.join(tmp, 'games'),
      adapter,
      families: resolveFamilies(adapter, 'none'),
      source: chessRandomSource({ games, seed: 1, minChars: 300, maxPlies: 120 }),
      tokensPerGame: 512,
      testFraction: 0,
      showProgress: false,
    });
    const data = await datasetSequences(path.join(tmp, 'games'), { split: 'all', minLength: 256 });
    let cached: LegalMoveResult | undefined;
    let recomputed: LegalMoveResult | undefined;
    const tCached = await h.time(async () => void (cached = await chessLegalMoveRate(model, data, { games })), { reps, warmup: 0 });
    const peer = { ...gptPredictor(model), decoder: undefined };
    const tPeer = await h.time(async () => void (recomputed = await chessLegalMoveRate(peer, data, { games })), { reps, warmup: 0 });
    if (cached!.legal !== recomputed!.legal || cached!.predictions !== recomputed!.predictions) {
      throw new Error(`cached and re-run decoding disagree: ${cached!.legal}/${cached!.predictions} vs ${recomputed!.legal}/${recomputed!.predictions}`);
    }
    h.record(`chess legal-move rate ${meta.name}`, {
      backend: backendInfo(),
      games,
      predictions: cached!.predictions,
      rate: cached!.rate,
      cachedMsMedian: tCached.median,
      movesPerSec: Math.round(cached!.predictions / (tCached.median / 1000)),
      peer: { what: 're-run the prefix per character', msMedian: tPeer.median, movesPerSec: Math.round(recomputed!.predictions / (tPeer.median / 1000)) },
      speedup: Number((tPeer.median / tCached.median).toFixed(2)),
    });
  } finally {
    model.dispose();
    rmSync(tmp, { recursive: true, force: true });
  }
}
