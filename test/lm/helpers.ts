/** Small real datasets for LM tests, written with the games module's own writer. */
import { adapterFor, chessRandomSource, othelloRandomSource, resolveFamilies, writeDataset } from '../../src/games/dataset/index.js';

export async function makeOthelloDataset(out: string, opts: { games: number; seed: number; families?: string; minMoves?: number; testFraction?: number }): Promise<void> {
  const adapter = adapterFor('othello');
  await writeDataset({
    out,
    adapter,
    families: resolveFamilies(adapter, opts.families ?? 'none'),
    source: othelloRandomSource({ games: opts.games, seed: opts.seed, minMoves: opts.minMoves }),
    testFraction: opts.testFraction ?? 0.25,
    showProgress: false,
  });
}

export async function makeChessDataset(out: string, opts: { games: number; seed: number; families?: string; minChars?: number; testFraction?: number }): Promise<void> {
  const adapter = adapterFor('chess', { tokensPerGame: 512 });
  await writeDataset({
    out,
    adapter,
    families: resolveFamilies(adapter, opts.families ?? 'none'),
    source: chessRandomSource({ games: opts.games, seed: opts.seed, minChars: opts.minChars ?? 300, maxPlies: 120 }),
    tokensPerGame: 512,
    testFraction: opts.testFraction ?? 0.25,
    showProgress: false,
  });
}
