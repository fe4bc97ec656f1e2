/**
 * Game sources for the dataset writer: synthetic Othello games, Othello transcript files, random
 * legal chess games and PGN files. Each yields token rows and keeps counters for the manifest.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { UserInputError } from '../../errors.js';
import { encodeChess, importPgn, parseTranscript, randomChessGamesSync, randomGameSource, stockfishChessGames, stockfishGameSource, type PgnImportStats } from '../chess/index.js';
import {
  FingerprintSet,
  OTHELLO_MAX_MOVES,
  RandomOthelloGames,
  SQUARE_TO_TOKEN,
  encodeOthello,
  fingerprint,
  parseOthelloLine,
  replayOthello,
  type OthelloNumbering,
} from '../othello/index.js';
import type { DatasetSource } from './writer.js';

export interface OthelloRandomSourceOptions {
  games: number;
  seed: number;
  minMoves?: number;
  dedupe?: boolean;
}

/** Uniformly random legal Othello games (games.md §1.2). */
export function othelloRandomSource(opts: OthelloRandomSourceOptions): DatasetSource {
  if (!Number.isInteger(opts.games) || opts.games < 1) throw new UserInputError(`--games must be a positive integer, got ${opts.games}`);
  const gen = new RandomOthelloGames({ seed: opts.seed, minMoves: opts.minMoves, dedupe: opts.dedupe });
  function* games(): Generator<Uint8Array> {
    const sq = new Uint8Array(OTHELLO_MAX_MOVES);
    for (let i = 0; i < opts.games; i++) {
      const n = gen.next(sq);
      const t = new Uint8Array(n);
      for (let k = 0; k < n; k++) t[k] = SQUARE_TO_TOKEN[sq[k]];
      yield t;
    }
  }
  return {
    kind: 'synthetic-random',
    details: {
      generator: 'uniform over get_valid_moves (passes folded in), games.md §1.2',
      minMoves: opts.minMoves ?? 0,
      dedupe: opts.dedupe !== false,
    },
    seed: opts.seed,
    games: games(),
    expectedGames: opts.games,
    label: 'generate othello',
    stats: () => ({ ...gen.stats }),
  };
}

export interface TranscriptFileOptions {
  numbering?: OthelloNumbering;
  /** Skip games that fail to parse or replay, instead of failing on the first. */
  skipBad?: boolean;
  minMoves?: number;
  dedupe?: boolean;
}

/**
 * An Othello transcript file: one game per line (square names like "f5 d6 c3", compact "f5d6c3",
 * or token ids / square indices); blank lines and lines starting with '#' are ignored. Every game
 * is replayed strictly; errors name the file, line and move.
 */
export async function othelloTranscriptSource(file: string, opts: TranscriptFileOptions = {}): Promise<DatasetSource> {
  const st = await fs.stat(file).catch(() => {
    throw new UserInputError(`transcript file not found: ${file}`);
  });
  if (!st.isFile()) throw new UserInputError(`${file} is not a file`);
  const counters = { lines: 0, imported: 0, skipped: 0, tooShort: 0, duplicates: 0, withPass: 0, bytes: 0 };
  const errors: string[] = [];
  const seen = opts.dedupe ? new FingerprintSet() : null;
  const hash = createHash('sha256');
  const details: Record<string, unknown> = { file: path.resolve(file), bytes: st.size, numbering: opts.numbering ?? 'token', errors };
  async function* games(): AsyncGenerator<Uint8Array> {
    const stream = createReadStream(file);
    stream.on('data', (c: Buffer | string) => {
      hash.update(c);
      counters.bytes += typeof c === 'string' ? Buffer.byteLength(c) : c.length;
    });
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    try {
      for await (const line of rl) {
        counters.lines++;
        const text = line.trim();
        if (!text || text.startsWith('#')) continue;
        const where = `${file} line ${counters.lines}`;
        let squares: number[];
        let passes = 0;
        try {
          squares = parseOthelloLine(text, where, opts.numbering ?? 'token');
          if (squares.length === 0) continue;
          passes = replayOthello(squares, where).passes;
        } catch (err) {
          if (!opts.skipBad || !(err instanceof UserInputError)) throw err;
          counters.skipped++;
          if (errors.length < 100) errors.push(err.message);
          continue;
        }
        if (squares.length < (opts.minMoves ?? 0)) {
          counters.tooShort++;
          continue;
        }
        if (seen && !seen.add(fingerprint(squares, squares.length))) {
          counters.duplicates++;
          continue;
        }
        if (passes > 0) counters.withPass++;
        counters.imported++;
        yield encodeOthello(squares);
      }
    } finally {
      rl.close();
      stream.destroy();
    }
    details.sha256 = hash.digest('hex');
  }
  return {
    kind: 'transcript-import',
    details,
    seed: null,
    games: games(),
    progress: { total: st.size, unit: 'bytes', value: () => counters.bytes },
    label: `import ${path.basename(file)}`,
    stats: () => {
      const { bytes: _bytes, ...rest } = counters;
      return rest;
    },
  };
}

export interface ChessRandomSourceOptions {
  games: number;
  seed: number;
  maxPlies?: number;
  minChars?: number;
}

/** Uniformly random legal chess games (synthetic, not human play). */
export function chessRandomSource(opts: ChessRandomSourceOptions): DatasetSource {
  if (!Number.isInteger(opts.games) || opts.games < 1) throw new UserInputError(`--games must be a positive integer, got ${opts.games}`);
  const terminations: Record<string, number> = {};
  function* games(): Generator<Uint8Array> {
    for (const g of randomChessGamesSync({ count: opts.games, seed: opts.seed, maxPlies: opts.maxPlies, minChars: opts.minChars })) {
      terminations[`termination_${g.termination}`] = (terminations[`termination_${g.termination}`] ?? 0) + 1;
      yield encodeChess(g.transcript);
    }
  }
  return {
    kind: 'random-legal',
    details: { generator: randomGameSource(opts), maxPlies: opts.maxPlies ?? 400, minChars: opts.minChars ?? 0 },
    seed: opts.seed,
    games: games(),
    expectedGames: opts.games,
    label: 'generate chess',
    stats: () => ({ ...terminations }),
  };
}

export interface PgnSourceOptions {
  skipBad?: boolean;
  minPlies?: number;
  maxGames?: number;
}

/** A PGN file (Lichess export style), streamed; transcripts in the paper's format (games.md §2.1). */
export async function pgnSource(file: string, opts: PgnSourceOptions = {}): Promise<DatasetSource> {
  const st = await fs.stat(file).catch(() => {
    throw new UserInputError(`PGN file not found: ${file}`);
  });
  if (!st.isFile()) throw new UserInputError(`${file} is not a file`);
  const details: Record<string, unknown> = { file: path.resolve(file), bytes: st.size, skipBad: Boolean(opts.skipBad) };
  let stats: PgnImportStats = { games: 0, imported: 0, skipped: 0, tooShort: 0, errors: [], bytes: 0 };
  async function* games(): AsyncGenerator<Uint8Array> {
    // The stream is opened only when iteration starts: a 'data' listener switches it to flowing
    // mode, and bytes emitted before the PGN reader listens would be lost.
    const hash = createHash('sha256');
    const stream = createReadStream(file);
    stream.on('data', (c: Buffer | string) => hash.update(c));
    const pgn = importPgn(stream, { name: file, skipBad: opts.skipBad, minPlies: opts.minPlies, maxGames: opts.maxGames });
    stats = pgn.stats;
    for await (const g of pgn.games) yield encodeChess(g.transcript, `${file} game ${g.gameNumber}`);
    // With maxGames the reader may stop early: then the hash covers only the bytes read.
    details[opts.maxGames === undefined ? 'sha256' : 'sha256OfBytesRead'] = hash.digest('hex');
    details.errors = stats.errors.map((e) => e.message);
  }
  return {
    kind: 'pgn-import',
    details,
    seed: null,
    games: games(),
    progress: { total: st.size, unit: 'bytes', value: () => stats.bytes },
    label: `import ${path.basename(file)}`,
    stats: () => ({ gamesSeen: stats.games, imported: stats.imported, skipped: stats.skipped, tooShort: stats.tooShort }),
  };
}

export interface ChessTranscriptFileOptions {
  /** Skip games that fail to parse or replay, instead of failing on the first. */
  skipBad?: boolean;
  /** Keep only games with at least this many complete half-moves. */
  minPlies?: number;
  maxGames?: number;
}

/**
 * A chess transcript file in the paper's format: one game per line, `;1.e4 e5 2.Nf3 ...`, as in
 * its datasets, where lines are cut at a fixed length (256 or 1024 characters) — so the last move
 * may be cut off. Every complete move is replayed strictly; a cut last move is accepted and
 * counted (stats.truncated); the line is stored as given. Errors name the file, line and move.
 */
export async function chessTranscriptSource(file: string, opts: ChessTranscriptFileOptions = {}): Promise<DatasetSource> {
  const st = await fs.stat(file).catch(() => {
    throw new UserInputError(`transcript file not found: ${file}`);
  });
  if (!st.isFile()) throw new UserInputError(`${file} is not a file`);
  const counters = { lines: 0, imported: 0, skipped: 0, tooShort: 0, truncated: 0, bytes: 0 };
  const errors: string[] = [];
  const hash = createHash('sha256');
  const details: Record<string, unknown> = { file: path.resolve(file), bytes: st.size, format: 'paper-transcripts', errors };
  async function* games(): AsyncGenerator<Uint8Array> {
    const stream = createReadStream(file);
    stream.on('data', (c: Buffer | string) => {
      hash.update(c);
      counters.bytes += typeof c === 'string' ? Buffer.byteLength(c) : c.length;
    });
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    try {
      for await (const line of rl) {
        counters.lines++;
        const text = line.replace(/\s+$/, '');
        if (!text.trim() || text.startsWith('#')) continue;
        const where = `${file} line ${counters.lines}`;
        let parsed;
        try {
          parsed = parseTranscript(text, { where, allowTruncatedEnd: true });
        } catch (err) {
          if (!opts.skipBad || !(err instanceof UserInputError)) throw err;
          counters.skipped++;
          if (errors.length < 100) errors.push(err.message);
          continue;
        }
        if (parsed.sans.length < (opts.minPlies ?? 1)) {
          counters.tooShort++;
          continue;
        }
        if (parsed.truncatedEnd) counters.truncated++;
        counters.imported++;
        yield encodeChess(text, where);
        if (opts.maxGames !== undefined && counters.imported >= opts.maxGames) break;
      }
    } finally {
      rl.close();
      stream.destroy();
    }
    details.sha256 = hash.digest('hex');
  }
  return {
    kind: 'transcript-import',
    details,
    seed: null,
    games: games(),
    progress: { total: st.size, unit: 'bytes', value: () => counters.bytes },
    label: `import ${path.basename(file)}`,
    stats: () => {
      const { bytes: _bytes, ...rest } = counters;
      return rest;
    },
  };
}

export interface StockfishSourceOptions {
  games: number;
  seed: number;
  depth?: number;
  multiPv?: number;
  temperatureCp?: number;
  randomOpeningPlies?: number;
  maxPlies?: number;
  minChars?: number;
}

/** Stockfish self-play chess games (npm stockfish, WASM, as a child process). */
export function stockfishSource(opts: StockfishSourceOptions): DatasetSource {
  if (!Number.isInteger(opts.games) || opts.games < 1) throw new UserInputError(`--games must be a positive integer, got ${opts.games}`);
  const counters: Record<string, number> = { tooShort: 0 };
  async function* games(): AsyncGenerator<Uint8Array> {
    let kept = 0;
    // Games shorter than minChars are dropped, so ask the engine for games until enough are kept.
    for await (const g of stockfishChessGames({ ...opts, count: Infinity })) {
      if (g.transcript.length < (opts.minChars ?? 0)) {
        counters.tooShort++;
        continue;
      }
      const key = `termination_${g.termination}`;
      counters[key] = (counters[key] ?? 0) + 1;
      yield encodeChess(g.transcript);
      if (++kept >= opts.games) return;
    }
  }
  return {
    kind: 'stockfish',
    details: {
      generator: stockfishGameSource(opts),
      depth: opts.depth ?? 3,
      multiPv: opts.multiPv ?? 5,
      temperatureCp: opts.temperatureCp ?? 50,
      randomOpeningPlies: opts.randomOpeningPlies ?? 4,
      maxPlies: opts.maxPlies ?? 300,
      minChars: opts.minChars ?? 0,
    },
    seed: opts.seed,
    games: games(),
    expectedGames: opts.games,
    label: 'generate chess (stockfish)',
    stats: () => ({ ...counters }),
  };
}
