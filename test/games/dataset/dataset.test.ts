import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fs, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  adapterFor,
  chessRandomSource,
  openDataset,
  othelloRandomSource,
  othelloTranscriptSource,
  pgnSource,
  resolveFamilies,
  stockfishSource,
  writeDataset,
} from '../../../src/games/dataset/index.js';
import { chessBspFamilies, dotPositions, decodeChess, labelChessPositions } from '../../../src/games/chess/index.js';
import {
  OTHELLO_MAX_MOVES,
  RandomOthelloGames,
  SQUARE_TO_TOKEN,
  boardStateFamily,
  labelOthelloGames,
  othelloBspFamilies,
  squareName,
} from '../../../src/games/othello/index.js';
import { PROJECT_ROOT } from '../../../src/version.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'saeboard-ds-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function generatedTokens(seed: number, n: number, minMoves = 0): Uint8Array[] {
  const gen = new RandomOthelloGames({ seed, minMoves });
  const sq = new Uint8Array(OTHELLO_MAX_MOVES);
  return Array.from({ length: n }, () => {
    const len = gen.next(sq);
    return Uint8Array.from(sq.subarray(0, len), (s) => SQUARE_TO_TOKEN[s]);
  });
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.startsWith('.tmp-'));
}

describe('Othello dataset: write, read back, verify', () => {
  const out = path.join(tmp, 'othello');
  const families = resolveFamilies(adapterFor('othello'), 'board_state,valid_moves,length_lines');

  it('writes shards whose tokens, positions and labels read back exactly', async () => {
    const m = await writeDataset({
      out,
      adapter: adapterFor('othello'),
      families,
      source: othelloRandomSource({ games: 120, seed: 4 }),
      shardGames: 50,
      testFraction: 0.25,
      showProgress: false,
    });
    expect(m.shards.map((s) => s.games)).toEqual([
      { start: 0, end: 50 },
      { start: 50, end: 100 },
      { start: 100, end: 120 },
    ]);
    expect(m.splits).toEqual({ train: { start: 0, end: 90 }, test: { start: 90, end: 120 } });
    expect(m.families.map((f) => [f.shortName, f.cells, f.bytesPerRow, f.coverageDenominator, f.reported])).toEqual([
      ['board_state', 192, 24, 192, true],
      ['valid_moves', 64, 8, 64, false],
      ['length_lines', 3072, 384, 3072, false],
    ]);
    expect(m.seed).toBe(4);
    expect(m.source.kind).toBe('synthetic-random');
    expect(m.counts.source.kept).toBe(120);

    const want = generatedTokens(4, 120);
    const ds = await openDataset(out);
    let games = 0;
    let positions = 0;
    for await (const shard of ds.shards()) {
      for (let g = 0; g < shard.nGames; g++) {
        const len = shard.lengths[g];
        expect(Array.from(shard.tokens.subarray(g * 60, g * 60 + len))).toEqual(Array.from(want[games + g]));
        expect(shard.tokens.subarray(g * 60 + len, g * 60 + 60).every((t) => t === 0)).toBe(true);
        expect(shard.gameIndex[g]).toBe(games + g);
      }
      const expected = labelOthelloGames({ tokens: shard.tokens, nGames: shard.nGames, stride: 60 }, families as never, { gameOffset: games });
      expect(shard.nPositions).toBe(expected.nPositions);
      expect(Array.from(shard.positionGame)).toEqual(Array.from(expected.positionGame));
      expect(Array.from(shard.positionIndex)).toEqual(Array.from(expected.positionIndex));
      families.forEach((f, k) => expect(Buffer.compare(Buffer.from(shard.labels(f.shortName)), Buffer.from(expected.labels[k]))).toBe(0));
      games += shard.nGames;
      positions += shard.nPositions;
    }
    expect(games).toBe(120);
    expect(positions).toBe(m.counts.positions);
    const want59 = want.reduce((a, t) => a + Math.min(59, t.length), 0);
    expect(positions).toBe(want59);
    await ds.verify();
    expect(leftovers(tmp)).toEqual([]);
  });

  it('reads token rows of any game range across shards (e.g. the test split)', async () => {
    const ds = await openDataset(out);
    const { tokens, lengths, nGames } = await ds.readTokens(ds.manifest.splits.test);
    expect(nGames).toBe(30);
    const want = generatedTokens(4, 120);
    for (let g = 0; g < nGames; g++) expect(Array.from(tokens.subarray(g * 60, g * 60 + lengths[g]))).toEqual(Array.from(want[90 + g]));
    await expect(ds.readTokens({ start: 100, end: 121 })).rejects.toThrow(/outside \[0, 120\)/);
  });

  it('is readable from Python, whose independent engine agrees with every label', () => {
    let hasNumpy = true;
    try {
      execFileSync('/usr/bin/python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    } catch {
      hasNumpy = false;
    }
    if (!hasNumpy) return; // the reference interpreter is part of the dev machine, not of CI necessarily
    const outText = execFileSync('/usr/bin/python3', [path.join(PROJECT_ROOT, 'scripts', 'read_dataset.py'), out, '--check-othello', '--check-games', '12'], { encoding: 'utf8' });
    const r = JSON.parse(outText) as { games: number; shards: Record<string, [string, number[]]>[]; mismatches: number; checkedPositionFamilies: number };
    expect(r.games).toBe(120);
    expect(r.shards[0]['labels/board_state']).toEqual(['uint8', [r.shards[0].position_game[1][0], 24]]);
    expect(r.shards[0].tokens).toEqual(['uint8', [50, 60]]);
    expect(r.checkedPositionFamilies).toBeGreaterThan(3 * 3 * 12 * 50); // 3 shards × 3 families × 12 games × ≥50 positions
    expect(r.mismatches).toBe(0);
  });

  it('refuses to overwrite without the flag, and overwrites with it', async () => {
    const opts = { out, adapter: adapterFor('othello'), families: [], showProgress: false } as const;
    await expect(writeDataset({ ...opts, source: othelloRandomSource({ games: 5, seed: 1 }) })).rejects.toThrow(/already exists \(pass --force/);
    const copy = path.join(tmp, 'othello-copy');
    await fs.cp(out, copy, { recursive: true });
    const m = await writeDataset({ ...opts, out: copy, source: othelloRandomSource({ games: 5, seed: 1 }), overwrite: true });
    expect(m.counts.games).toBe(5);
    expect(m.families).toEqual([]);
    expect((await openDataset(copy)).manifest.counts.games).toBe(5);
  });

  it('detects a corrupted shard, a truncated shard, a wrong manifest version and a missing manifest', async () => {
    const bad = path.join(tmp, 'othello-bad');
    await fs.cp(out, bad, { recursive: true });
    const shard = path.join(bad, 'shard-00001.safetensors');
    const bytes = await fs.readFile(shard);
    bytes[bytes.length - 1] ^= 0xff;
    await fs.writeFile(shard, bytes);
    const ds = await openDataset(bad);
    await expect(ds.verify()).rejects.toThrow(/shard-00001\.safetensors: sha256 mismatch .*corrupted or modified/);
    await expect(ds.readShard(1)).rejects.toThrow(/sha256 mismatch/);
    await expect(ds.readShard(0)).resolves.toBeTruthy();

    await fs.writeFile(shard, bytes.subarray(0, bytes.length - 100));
    await expect(ds.readShard(1)).rejects.toThrow(/shard-00001\.safetensors: \d+ bytes, but the manifest says \d+ \(truncated or replaced\?\)/);

    const manifestFile = path.join(bad, 'manifest.json');
    const manifest = JSON.parse(await fs.readFile(manifestFile, 'utf8'));
    await fs.writeFile(manifestFile, JSON.stringify({ ...manifest, formatVersion: 99 }));
    await expect(openDataset(bad)).rejects.toThrow(/manifest\.json: unsupported dataset format version 99 \(this saeboard reads version 1\)/);
    await fs.writeFile(manifestFile, '{"format": "saeboard-dataset", "formatVer');
    await expect(openDataset(bad)).rejects.toThrow(/manifest\.json: not valid JSON .*truncated/);
    await fs.rm(manifestFile);
    await expect(openDataset(bad)).rejects.toThrow(/is not a saeboard dataset: cannot read manifest\.json/);
    await expect(openDataset(path.join(tmp, 'nope'))).rejects.toThrow(/no such dataset directory/);
  });
});

describe('Othello transcript import', () => {
  const games = generatedTokens(21, 30);
  const asText = (t: Uint8Array) => Array.from(t, (x) => squareName(x <= 27 ? x - 1 : x <= 33 ? x + 1 : x + 3)).join(' ');

  it('imports square-name transcripts and matches the token rows', async () => {
    const file = path.join(tmp, 'games.txt');
    writeFileSync(file, '# thirty games\n' + games.map(asText).join('\n') + '\n\n');
    const out = path.join(tmp, 'imported');
    const m = await writeDataset({ out, adapter: adapterFor('othello'), families: [boardStateFamily] as never, source: await othelloTranscriptSource(file), showProgress: false });
    expect(m.counts.games).toBe(30);
    expect(m.source.kind).toBe('transcript-import');
    expect(m.source.details.sha256).toMatch(/^[0-9a-f]{64}$/);
    const { tokens, lengths } = await (await openDataset(out)).readTokens();
    games.forEach((g, i) => expect(Array.from(tokens.subarray(i * 60, i * 60 + lengths[i]))).toEqual(Array.from(g)));
  });

  it('an illegal move stops the import with file, line and move, and leaves no dataset behind', async () => {
    const lines = games.map(asText);
    const moves = lines[3].split(' ');
    moves[5] = moves[2]; // replay an occupied square
    lines[3] = moves.join(' ');
    const file = path.join(tmp, 'bad.txt');
    writeFileSync(file, lines.join('\n'));
    const out = path.join(tmp, 'bad-import');
    await expect(
      writeDataset({ out, adapter: adapterFor('othello'), families: [], source: await othelloTranscriptSource(file), showProgress: false }),
    ).rejects.toThrow(new RegExp(`bad\\.txt line 4, move 6 \\(${moves[2]}\\): illegal move: ${moves[2]} is already occupied`));
    expect(existsSync(out)).toBe(false);
    expect(leftovers(tmp)).toEqual([]);

    const skipped = await writeDataset({
      out,
      adapter: adapterFor('othello'),
      families: [],
      source: await othelloTranscriptSource(file, { skipBad: true }),
      showProgress: false,
    });
    expect(skipped.counts.games).toBe(29);
    expect(skipped.counts.source.skipped).toBe(1);
    expect((skipped.source.details.errors as string[])[0]).toMatch(/line 4, move 6/);
  });
});

describe('chess datasets', () => {
  it('labels the first 20 dots of each random game with the chess families', async () => {
    const out = path.join(tmp, 'chess');
    const adapter = adapterFor('chess', { tokensPerGame: 300 });
    const families = resolveFamilies(adapter, 'board_state,check,legal_moves');
    const m = await writeDataset({ out, adapter, families, source: chessRandomSource({ games: 6, seed: 2, minChars: 256 }), tokensPerGame: 300, showProgress: false });
    expect(m.tokensPerGame).toBe(300);
    expect(m.tokenizer.padIsToken).toBe(false);
    const ds = await openDataset(out);
    const shard = (await ds.readShard(0));
    expect(shard.nGames).toBe(6);
    for (let g = 0; g < 6; g++) {
      const text = decodeChess(shard.tokens.subarray(g * 300, g * 300 + shard.lengths[g]));
      expect(text.startsWith(';1.')).toBe(true);
      const rows = [...shard.positionGame.keys()].filter((r) => shard.positionGame[r] === g);
      expect(rows).toHaveLength(20);
      // Every labelled position is a '.' within the first 256 characters.
      for (const r of rows) expect(text[shard.positionIndex[r]]).toBe('.');
      const positions = dotPositions(text.slice(0, 256));
      const want = labelChessPositions(positions, families as never);
      families.forEach((f, k) => {
        const got = shard.labels(f.shortName).subarray(rows[0] * f.cells, (rows[rows.length - 1] + 1) * f.cells);
        expect(Buffer.compare(Buffer.from(got), Buffer.from(want[k].labels)), f.shortName).toBe(0);
      });
    }
    expect(chessBspFamilies.length).toBeGreaterThan(3);
  });

  it('records Stockfish self-play games with their engine settings', async () => {
    const out = path.join(tmp, 'sf');
    const source = stockfishSource({ games: 2, seed: 5, depth: 1, multiPv: 2, maxPlies: 12, randomOpeningPlies: 2 });
    const m = await writeDataset({ out, adapter: adapterFor('chess'), families: resolveFamilies(adapterFor('chess'), 'board_state'), source, showProgress: false });
    expect(m.source.kind).toBe('stockfish');
    expect(m.source.details).toMatchObject({ depth: 1, multiPv: 2, maxPlies: 12 });
    expect(m.counts.games).toBe(2);
    const shard = await (await openDataset(out)).readShard(0);
    const text = decodeChess(shard.tokens.subarray(0, shard.lengths[0]));
    expect(text.split(' ').length).toBe(12); // cut at maxPlies = 12 half-moves
    expect(shard.nPositions).toBe(2 * 6); // 6 White moves → 6 dots per game
  }, 30_000);

  it('imports PGN; a bad game is an error naming file, line and game, or skipped and counted', async () => {
    const pgn = [
      '[Event "a"]', '[Result "1-0"]', '', '1. e4 e5 2. Qh5 Nc6 3. Bc4 Nf6 4. Qxf7# 1-0', '',
      '[Event "b"]', '[Result "*"]', '', '1. e4 e5 2. Ke3 *', '',
      '[Event "c"]', '[Result "0-1"]', '', '1. f3 e5 2. g4 Qh4# 0-1', '',
    ].join('\n');
    const file = path.join(tmp, 'g.pgn');
    writeFileSync(file, pgn);
    const out = path.join(tmp, 'pgn');
    await expect(writeDataset({ out, adapter: adapterFor('chess'), families: [], source: await pgnSource(file), showProgress: false })).rejects.toThrow(
      /g\.pgn:9: game 2 .*illegal or unparseable move "Ke3"/,
    );
    expect(existsSync(out)).toBe(false);
    const m = await writeDataset({ out, adapter: adapterFor('chess'), families: [], source: await pgnSource(file, { skipBad: true }), showProgress: false });
    expect(m.counts.games).toBe(2);
    expect(m.counts.source).toMatchObject({ imported: 2, skipped: 1 });
    const { tokens, lengths } = await (await openDataset(out)).readTokens();
    expect(decodeChess(tokens.subarray(0, lengths[0]))).toBe(';1.e4 e5 2.Qh5 Nc6 3.Bc4 Nf6 4.Qxf7#');
    expect(decodeChess(tokens.subarray(1024, 1024 + lengths[1]))).toBe(';1.f3 e5 2.g4 Qh4#');
  });
});

describe('family selection', () => {
  it('resolves default, reported, all, none and lists; unknown names list what exists', () => {
    const a = adapterFor('othello');
    expect(resolveFamilies(a, 'default').map((f) => f.shortName)).toEqual(['board_state', 'mine_yours', 'valid_moves']);
    expect(resolveFamilies(a, 'reported').map((f) => f.shortName)).toEqual(['board_state']);
    expect(resolveFamilies(a, 'all')).toHaveLength(othelloBspFamilies.length);
    expect(resolveFamilies(a, 'none')).toEqual([]);
    expect(resolveFamilies(a, 'valid_moves, games_batch_to_state_stack_lines_mine_BLRCC').map((f) => f.shortName)).toEqual(['valid_moves', 'lines_mine']);
    expect(() => resolveFamilies(a, 'board_state,queen')).toThrow(/unknown othello BSP family "queen"; known: board_state, mine_yours/);
    expect(resolveFamilies(adapterFor('chess'), 'reported').map((f) => f.group)).not.toContain('other');
  });
});

describe('labels agree with labelOthelloGames on the paper sizes', () => {
  it('59 positions per ≥59-move game', () => {
    const rows = generatedTokens(8, 10, 59);
    const tokens = new Uint8Array(10 * 60);
    rows.forEach((r, i) => tokens.set(r, i * 60));
    const res = labelOthelloGames({ tokens, nGames: 10, stride: 60 }, [boardStateFamily]);
    expect(res.nPositions).toBe(590);
    // Board-state true cells: 5 + i at position i, so 10 × Σ(5+i) over i=0..58.
    expect(res.labels[0].reduce((a, x) => a + x, 0)).toBe(10 * (59 * 5 + (58 * 59) / 2));
  });
});
