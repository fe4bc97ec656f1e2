import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { importPgn, parsePgnString, parseTranscript, type ImportedChessGame } from '../../../src/games/chess/index.js';
import { UserInputError } from '../../../src/errors.js';
import { PROJECT_ROOT } from '../../../src/version.js';

const SAMPLE = path.join(PROJECT_ROOT, 'test', 'fixtures', 'chess', 'lichess-sample.pgn');

async function collect(games: AsyncIterable<ImportedChessGame>): Promise<ImportedChessGame[]> {
  const out: ImportedChessGame[] = [];
  for await (const g of games) out.push(g);
  return out;
}

function tmpFile(name: string, text: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'saeboard-pgn-'));
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('PGN import (Lichess format)', () => {
  it('strips headers, comments, variations, NAGs, annotations and results into paper transcripts', async () => {
    const { games, stats } = importPgn(SAMPLE);
    const list = await collect(games);
    expect(list.map((g) => g.transcript)).toEqual([
      ';1.e4 e5 2.Nf3 Nc6 3.Bb5 a6 4.Ba4 Nf6 5.O-O Be7 6.Re1 b5 7.Bb3 d6 8.c3 O-O 9.h3 Nb8 10.d4 Nbd7 11.Nbd2 Bb7 12.Bc2 Re8 13.Nf1 Bf8 14.Ng3 g6 15.a4 c5 16.d5 c4 17.Bg5 h6 18.Be3 Nc5 19.Qd2 h5 20.Bg5 Be7 21.Ra3 Nfd7 22.Bh6 Bf6 23.Rea1 Qb6 24.axb5 axb5 25.Rxa8 Rxa8 26.Rxa8+ Bxa8 27.Qe3',
      ';1.d4 d5 2.c4 e6 3.Nc3 Nf6 4.Bg5 Be7 5.e3 O-O 6.Nf3 h6 7.Bh4 b6 8.cxd5 Nxd5 9.Bxe7 Qxe7 10.Nxd5 exd5',
      ';1.f3 e5 2.g4 Qh4#',
    ]);
    expect(list.map((g) => g.gameNumber)).toEqual([1, 2, 4]);
    expect(list.map((g) => g.result)).toEqual(['1-0', '1/2-1/2', '0-1']);
    expect(list[0].headers.White).toBe('alice');
    expect(list[0].headers.Site).toBe('https://lichess.org/abcdefgh');
    expect(list[0].line).toBe(1);
    expect(list[0].plies).toBe(53);
    expect(stats).toMatchObject({ games: 4, imported: 3, skipped: 0, tooShort: 1 });
    expect(stats.bytes).toBeGreaterThan(1000);
    // Every output is a valid, canonical transcript in the 32-character vocabulary.
    for (const g of list) expect(parseTranscript(g.transcript).canonical).toBe(g.transcript);
  });

  it('reads from a stream and stops at maxGames', async () => {
    const text = (await import('node:fs')).readFileSync(SAMPLE, 'utf8');
    const { games } = importPgn(Readable.from([text.slice(0, 700), text.slice(700)]), { maxGames: 2 });
    expect((await collect(games)).length).toBe(2);
    expect(parsePgnString(text, { maxGames: 1 }).games.length).toBe(1);
  });

  it('names file, line and game number for an illegal move, and can skip bad games', async () => {
    const text = '[Event "a"]\n\n1. e4 e5 2. Nf3 1-0\n\n[Event "b"]\n\n1. e4 e5\n2. Nf3 Nc6 3. Ke3 Nf6 0-1\n\n[Event "c"]\n\n1. d4 *\n';
    const file = tmpFile('bad.pgn', text);
    const strict = importPgn(file);
    await expect(collect(strict.games)).rejects.toThrow(UserInputError);
    await expect(collect(importPgn(file).games)).rejects.toThrow(new RegExp(`${file.replace(/[.]/g, '\\.')}:8: game 2 \\(starting at line 5\\): illegal or unparseable move "Ke3" at column 15 \\(move 3\\.\\)`));
    const lenient = importPgn(file, { skipBad: true });
    const ok = await collect(lenient.games);
    expect(ok.map((g) => g.transcript)).toEqual([';1.e4 e5 2.Nf3', ';1.d4']);
    expect(lenient.stats).toMatchObject({ games: 3, imported: 2, skipped: 1 });
    expect(lenient.stats.errors[0]).toMatchObject({ gameNumber: 2, line: 8 });
  });

  it('reports truncated files, unbalanced variations, garbage tokens and set-up positions', () => {
    expect(() => parsePgnString('[Event "x"]\n\n1. e4 e5 2. Nf3', { name: 'cut.pgn' })).toThrow(/cut\.pgn:3: game 1 .*without a result token.*truncated/);
    expect(() => parsePgnString('1. e4 {unterminated', { name: 'c.pgn' })).toThrow(/c\.pgn:1: game 1 .*unterminated \{comment\}/);
    expect(() => parsePgnString('1. e4 (1. d4 e5 1-0', { name: 'v.pgn' })).toThrow(/unterminated \(variation\)/);
    expect(() => parsePgnString('1. e4 e5) 1-0', { name: 'p.pgn' })).toThrow(/p\.pgn:1: game 1 .*unbalanced '\)'/);
    expect(() => parsePgnString('1. e4 hello 1-0', { name: 'g.pgn' })).toThrow(/"hello"/);
    expect(() => parsePgnString('[FEN "8/8/8/8/8/8/8/K1k5 w - - 0 1"]\n\n1. Kb1 *')).toThrow(/set-up position/);
    expect(() => parsePgnString('[Variant "Atomic"]\n\n1. e4 *')).toThrow(/variant "Atomic"/);
    expect(() => parsePgnString('[Event "x"\n\n1. e4 *')).toThrow(/malformed header/);
    // A header section right after an unfinished game: that game is reported, the next one is fine.
    const r = parsePgnString('[Event "a"]\n\n1. e4 e5\n[Event "b"]\n\n1. d4 d5 1-0\n', { skipBad: true });
    expect(r.games.map((g) => g.transcript)).toEqual([';1.d4 d5']);
    expect(r.stats).toMatchObject({ skipped: 1, imported: 1 });
  });

  it('reports a missing file as bad input', async () => {
    await expect(collect(importPgn('/nonexistent/games.pgn').games)).rejects.toThrow(/PGN file not found/);
  });
});
