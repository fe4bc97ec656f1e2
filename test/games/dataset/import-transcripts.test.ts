/** The paper's chess transcript format, cut at a fixed length: imported line by line, as given. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { adapterFor, chessTranscriptSource, openDataset, resolveFamilies, writeDataset } from '../../../src/games/dataset/index.js';
import { decodeChess } from '../../../src/games/chess/index.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'saeboard-transcripts-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const FULL = ';1.e4 e5 2.Nf3 Nc6 3.Bb5 a6';
const CUT = ';1.d4 d5 2.c4 e6 3.Nc3 Nf'; // cut inside Black's third move, as the paper's 256-char lines are
const ILLEGAL = ';1.e4 e5 2.Ke3 Nc6 3.Nf3'; // not the last move: a cut-off last move would be accepted

describe('chess transcript import', () => {
  it('keeps complete and cut-off games as given, counts the cut ones, and names an illegal move', async () => {
    const file = path.join(tmp, 'games.txt');
    writeFileSync(file, [FULL, CUT, '', ILLEGAL].join('\n') + '\n');
    const adapter = adapterFor('chess', { tokensPerGame: 64 });
    const strict = await chessTranscriptSource(file);
    await expect(writeDataset({ out: path.join(tmp, 'strict'), adapter, families: resolveFamilies(adapter, 'none'), source: strict, tokensPerGame: 64, showProgress: false })).rejects.toThrow(
      /games\.txt line 4.*Ke3/,
    );

    const source = await chessTranscriptSource(file, { skipBad: true });
    await writeDataset({ out: path.join(tmp, 'ds'), adapter, families: resolveFamilies(adapter, 'none'), source, tokensPerGame: 64, testFraction: 0.5, showProgress: false });
    expect(source.stats?.()).toMatchObject({ imported: 2, truncated: 1, skipped: 1 });
    const ds = await openDataset(path.join(tmp, 'ds'));
    const texts: string[] = [];
    const chunk = await ds.readTokens();
    for (let g = 0; g < chunk.nGames; g++) texts.push(decodeChess(chunk.tokens.subarray(g * chunk.stride, g * chunk.stride + chunk.lengths[g])));
    expect(texts).toEqual([FULL, CUT]);
  });
});
