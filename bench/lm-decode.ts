/**
 * Greedy decoding speed: the chess legal-move rate (src/lm/legal.ts) of a shipped model with the
 * key/value-cached decoder (CachedDecoder) next to the peer, re-running every prefix for each
 * generated character (what decoding did before the cache), on the same games, interleaved
 * (cached, re-run, cached, …; --reps each, default 5, after a warm-up round on one game).
 * Both must make the same predictions; the bench checks that too. The re-run side is slow (about
 * 13 s a game for chess-small on 2 cores), hence the small default --games.
 *
 *   npm run bench -- lm-decode [--model chess-small] [--games 2] [--reps 5] [--window 256]
 *
 * Games: random legal-move games (seed 1, ≥ 300 characters) generated into a temporary directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { COMPARE_REPS, loadFields, sideSummary, type Bench, type Side } from './harness.js';
import { backendInfo, initBackend } from '../src/tensor/backend.js';
import { adapterFor, chessRandomSource, resolveFamilies, writeDataset } from '../src/games/dataset/index.js';
import { loadModelDir } from '../src/lm/checkpoint.js';
import { datasetSequences } from '../src/lm/dataset.js';
import { chessLegalMoveRate, gptPredictor, type LegalMoveResult } from '../src/lm/legal.js';
import { resolveModelPath } from '../src/lm/models.js';

export default async function (h: Bench): Promise<void> {
  await initBackend();
  const games = Number(h.option('games', '2'));
  const reps = Number(h.option('reps', String(COMPARE_REPS)));
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
    const window = h.option('window', '') ? Number(h.option('window', '')) : undefined;
    let n = 1;
    let cached: LegalMoveResult | undefined;
    let recomputed: LegalMoveResult | undefined;
    const peer = { ...gptPredictor(model), decoder: undefined };
    const sides: Side[] = [
      { name: 'cached', step: async () => void (cached = await chessLegalMoveRate(model, data, { games: n, window })) },
      { name: 're-run', step: async () => void (recomputed = await chessLegalMoveRate(peer, data, { games: n, window })) },
    ];
    // warm-up on one game per side (a full round would double the slow side's share of the run)
    for (const s of sides) await s.step();
    n = games;
    const cmp = await h.compare(sides, { reps, warmup: 0 });
    if (cached!.legal !== recomputed!.legal || cached!.predictions !== recomputed!.predictions) {
      throw new Error(`cached and re-run decoding disagree: ${cached!.legal}/${cached!.predictions} vs ${recomputed!.legal}/${recomputed!.predictions}`);
    }
    const tCached = cmp.sides.cached;
    const tPeer = cmp.sides['re-run'];
    h.record(`chess legal-move rate ${meta.name}`, {
      backend: backendInfo(),
      games,
      window: window ?? null,
      predictions: cached!.predictions,
      rate: cached!.rate,
      cachedMsMedian: tCached.median,
      movesPerSec: Math.round(cached!.predictions / (tCached.median / 1000)),
      cached: sideSummary(tCached),
      peer: { what: 're-run the prefix per character', ...sideSummary(tPeer), msMedian: tPeer.median, movesPerSec: Math.round(recomputed!.predictions / (tPeer.median / 1000)) },
      // ratio of the medians (re-run / cached), interleaved in this run: > 1 means the cache is faster
      speedup: Number((tPeer.median / tCached.median).toFixed(2)),
      order: 'interleaved',
      ...loadFields(cmp),
    });
  } finally {
    model.dispose();
    rmSync(tmp, { recursive: true, force: true });
  }
}
