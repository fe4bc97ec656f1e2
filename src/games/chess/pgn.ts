/**
 * Streaming PGN import (Lichess export format) into paper-format transcripts (games.md §2.1).
 *
 * Reads line by line, so a multi-GB file never sits in memory. Keeps only the mainline: headers,
 * `{comments}` (incl. `[%clk ...]`), `;` line comments, `%` escape lines, `(variations)` (nested),
 * NAGs (`$1`) and suffix annotations (`!?`), move numbers (`12.`, `12...`) and results are dropped.
 * Every SAN is validated with chessops and re-rendered canonically (`makeSan`), so the output
 * alphabet is exactly the 32-character vocabulary.
 *
 * A malformed game — illegal or unparseable SAN, unbalanced parentheses, unterminated comment, a
 * non-standard start (FEN / Variant headers), no result token (truncated file) — is an error naming
 * file, line and game number; with `skipBad` it is skipped and counted instead.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Chess } from 'chessops/chess';
import { makeSanAndPlay } from 'chessops/san';
import { UserInputError } from '../../errors.js';
import { parseSanCompat } from './san.js';
import { formatTranscript } from './transcript.js';

export interface ImportedChessGame {
  /** Paper-format transcript: `;1.e4 e5 2.Nf3 ...`. */
  transcript: string;
  /** 1-based index of the game in the file (counting bad and skipped games). */
  gameNumber: number;
  /** 1-based line where the game starts. */
  line: number;
  headers: Record<string, string>;
  plies: number;
  /** "1-0", "0-1", "1/2-1/2" or "*". */
  result: string;
}

export interface PgnImportOptions {
  /** Skip malformed games (and count them) instead of failing on the first one. */
  skipBad?: boolean;
  /** Games with fewer half-moves are dropped and counted as `tooShort` (default 1). */
  minPlies?: number;
  /** Stop after this many imported games. */
  maxGames?: number;
  /** Name used in error messages (default: the path, or "<input>"). */
  name?: string;
}

export interface PgnImportStats {
  /** Games seen (imported + skipped + tooShort). */
  games: number;
  imported: number;
  /** Malformed games skipped (only with skipBad). */
  skipped: number;
  tooShort: number;
  /** The first 100 skipped games' errors. */
  errors: { gameNumber: number; line: number; message: string }[];
  /** Bytes read so far (file input only). */
  bytes: number;
}

const RESULTS = new Set(['1-0', '0-1', '1/2-1/2', '*']);
const HEADER = /^\[\s*([A-Za-z0-9_+#=:-]+)\s+"((?:[^"\\]|\\.)*)"\s*\]\s*$/;
const MOVE_NUMBER = /^\d+\.*$/;
const MOVE_NUMBER_PREFIX = /^\d+\.+/;
const NAG = /^\$\d+$/;
const SUFFIX_ANNOTATION = /[!?]+$/;

class GameError extends Error {
  constructor(readonly line: number, message: string) {
    super(message);
  }
}

/** Incremental parser: feed lines, collect finished games. Pure, no I/O. */
export class PgnStreamParser {
  readonly stats: PgnImportStats = { games: 0, imported: 0, skipped: 0, tooShort: 0, errors: [], bytes: 0 };
  private readonly out: ImportedChessGame[] = [];
  private readonly name: string;
  private lineNo = 0;
  // per-game state
  private inGame = false;
  private inMovetext = false;
  private startLine = 0;
  private headers: Record<string, string> = {};
  private pos = Chess.default();
  private sans: string[] = [];
  private depth = 0;
  private variationLines: number[] = [];
  private commentLine = 0;
  private inComment = false;
  private bad: GameError | null = null;

  constructor(private readonly opts: PgnImportOptions = {}) {
    this.name = opts.name ?? '<input>';
  }

  /** Feed one line (without its newline). Returns games finished so far (and clears them). */
  pushLine(line: string): ImportedChessGame[] {
    this.lineNo++;
    try {
      this.processLine(line);
    } catch (err) {
      if (!(err instanceof GameError)) throw err;
      this.markBad(err);
    }
    return this.out.splice(0);
  }

  /** End of input: a game still open is truncated. */
  end(): ImportedChessGame[] {
    if (this.inComment) this.markBad(new GameError(this.commentLine, `unterminated {comment} starting at line ${this.commentLine} (truncated file?)`));
    else if (this.depth > 0) this.markBad(new GameError(this.variationLines[0], `unterminated (variation) starting at line ${this.variationLines[0]} (truncated file?)`));
    else if (this.inGame) {
      this.markBad(new GameError(this.lineNo, 'game ends without a result token (1-0, 0-1, 1/2-1/2, *): truncated file?'));
    }
    if (this.inGame) this.finish(null);
    return this.out.splice(0);
  }

  private processLine(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (!this.inComment && this.depth === 0 && line.startsWith('%')) return; // PGN escape line
    const trimmed = line.trim();
    if (!this.inComment && this.depth === 0 && trimmed.startsWith('[')) {
      if (this.inMovetext) {
        // A new header section while the previous game has no result: that game was cut off.
        const err = new GameError(this.lineNo - 1, `game ends without a result token (1-0, 0-1, 1/2-1/2, *) before the next game's headers at line ${this.lineNo}`);
        this.markBad(err);
        this.finish(null);
      }
      this.beginIfNeeded();
      const m = HEADER.exec(trimmed);
      if (!m) throw new GameError(this.lineNo, `malformed header ${JSON.stringify(trimmed.slice(0, 60))}`);
      this.headers[m[1]] = m[2].replace(/\\(["\\])/g, '$1');
      return;
    }
    if (trimmed.length === 0 && !this.inComment) return;
    this.scanMovetext(line);
  }

  private beginIfNeeded(): void {
    if (this.inGame) return;
    this.inGame = true;
    this.inMovetext = false;
    this.startLine = this.lineNo;
    this.headers = {};
    this.pos = Chess.default();
    this.sans = [];
    this.depth = 0;
    this.variationLines = [];
    this.inComment = false;
    this.bad = null;
  }

  private scanMovetext(line: string): void {
    let i = 0;
    const n = line.length;
    while (i < n) {
      if (this.inComment) {
        const close = line.indexOf('}', i);
        if (close < 0) return;
        this.inComment = false;
        i = close + 1;
        continue;
      }
      const c = line[i];
      if (c === ' ' || c === '\t') {
        i++;
        continue;
      }
      this.beginIfNeeded();
      if (!this.inMovetext) this.startMovetext();
      if (c === '{') {
        this.inComment = true;
        this.commentLine = this.lineNo;
        i++;
        continue;
      }
      if (c === ';') return; // rest-of-line comment
      // (a stray '}' would otherwise be an empty token that never advances: an endless loop)
      if (c === '}') throw new GameError(this.lineNo, `unbalanced '}' at column ${i + 1} (no comment is open)`);
      if (c === '(') {
        this.depth++;
        this.variationLines.push(this.lineNo);
        i++;
        continue;
      }
      if (c === ')') {
        if (this.depth === 0) throw new GameError(this.lineNo, `unbalanced ')' at column ${i + 1}`);
        this.depth--;
        this.variationLines.pop();
        i++;
        continue;
      }
      let j = i;
      while (j < n && !' \t{}();'.includes(line[j])) j++;
      this.token(line.slice(i, j), i + 1);
      i = j;
    }
  }

  private startMovetext(): void {
    this.inMovetext = true;
    const fen = this.headers.FEN;
    const variant = this.headers.Variant;
    if (variant && !/^(standard|chess|normal)$/i.test(variant)) {
      throw new GameError(this.startLine, `variant ${JSON.stringify(variant)} is not supported (standard chess only)`);
    }
    if (fen !== undefined && fen !== 'rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1') {
      throw new GameError(this.startLine, `games from a set-up position (FEN header) are not supported: transcripts start from the initial position`);
    }
  }

  private token(tok: string, column: number): void {
    if (this.depth > 0 || this.bad) {
      if (this.depth === 0 && RESULTS.has(tok)) this.finish(tok);
      return;
    }
    if (RESULTS.has(tok)) {
      this.finish(tok);
      return;
    }
    if (MOVE_NUMBER.test(tok) || NAG.test(tok)) return;
    const san = tok.replace(MOVE_NUMBER_PREFIX, '').replace(SUFFIX_ANNOTATION, '');
    if (san.length === 0) return; // annotation glyph standing alone
    const moveNo = this.pos.fullmoves;
    const label = `${moveNo}${this.pos.turn === 'white' ? '.' : '...'}`;
    const move = parseSanCompat(this.pos, san);
    if (!move) {
      throw new GameError(this.lineNo, `illegal or unparseable move ${JSON.stringify(tok)} at column ${column} (move ${label})`);
    }
    this.sans.push(makeSanAndPlay(this.pos, move));
  }

  private markBad(err: GameError): void {
    if (!this.inGame) this.beginIfNeeded();
    if (this.bad) return;
    const gameNumber = this.stats.games + 1;
    const message = `${this.name}:${err.line}: game ${gameNumber} (starting at line ${this.startLine}): ${err.message}`;
    if (!this.opts.skipBad) {
      throw new UserInputError(message, { file: this.name, line: err.line, game: gameNumber });
    }
    this.bad = err;
    if (this.stats.errors.length < 100) this.stats.errors.push({ gameNumber, line: err.line, message });
    // Resynchronise: drop any open comment/variation state of the bad game.
    this.inComment = false;
    this.depth = 0;
    this.variationLines = [];
  }

  private finish(result: string | null): void {
    this.stats.games++;
    const gameNumber = this.stats.games;
    if (this.bad) {
      this.stats.skipped++;
    } else if (result !== null) {
      if (this.sans.length < (this.opts.minPlies ?? 1)) {
        this.stats.tooShort++;
      } else {
        this.stats.imported++;
        this.out.push({
          transcript: formatTranscript(this.sans),
          gameNumber,
          line: this.startLine,
          headers: this.headers,
          plies: this.sans.length,
          result,
        });
      }
    }
    this.inGame = false;
    this.inMovetext = false;
    this.bad = null;
  }

  get done(): boolean {
    return this.opts.maxGames !== undefined && this.stats.imported >= this.opts.maxGames;
  }
}

/** Parse PGN text held in memory (tests, small files). */
export function parsePgnString(text: string, opts: PgnImportOptions = {}): { games: ImportedChessGame[]; stats: PgnImportStats } {
  const parser = new PgnStreamParser(opts);
  const games: ImportedChessGame[] = [];
  for (const line of text.split('\n')) {
    games.push(...parser.pushLine(line));
    if (parser.done) break;
  }
  if (!parser.done) games.push(...parser.end());
  const max = opts.maxGames ?? Infinity;
  return { games: games.slice(0, max), stats: parser.stats };
}

/**
 * Stream games from a PGN file (or any text stream). `stats` is updated live while iterating;
 * read it after the loop for the skipped/too-short counts.
 */
export function importPgn(source: string | Readable, opts: PgnImportOptions = {}): { games: AsyncIterable<ImportedChessGame>; stats: PgnImportStats } {
  const name = opts.name ?? (typeof source === 'string' ? source : '<stream>');
  const parser = new PgnStreamParser({ ...opts, name });
  async function* games(): AsyncGenerator<ImportedChessGame> {
    const stream = typeof source === 'string' ? createReadStream(source) : source;
    stream.on('data', (chunk: Buffer | string) => {
      parser.stats.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    });
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    let emitted = 0;
    const max = opts.maxGames ?? Infinity;
    try {
      for await (const line of rl) {
        for (const g of parser.pushLine(line)) {
          if (emitted >= max) break;
          emitted++;
          yield g;
        }
        if (emitted >= max) return;
      }
      for (const g of parser.end()) {
        if (emitted >= max) break;
        emitted++;
        yield g;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UserInputError(`PGN file not found: ${name}`);
      throw err;
    } finally {
      rl.close();
      if (typeof source === 'string') (stream as ReturnType<typeof createReadStream>).destroy();
    }
  }
  return { games: games(), stats: parser.stats };
}
