/**
 * ChessGPT transcripts (games.md §2.1): `;1.e4 e5 2.Nf3 Nc6 3.Bb5` — a `;` delimiter, White's moves
 * prefixed by their number and a dot (no space after it), one space between half-moves, SAN with
 * `x`, `+`, `#`, `=Q`, `O-O`; no result, no comments.
 *
 * Two readers:
 *  - `replayTranscript` / `analyzeTranscript` reproduce the paper's label code (`create_state_stack`,
 *    games.md §2.4) exactly: lenient, they stop silently at the first token that does not parse;
 *  - `parseTranscript` is strict, for importing datasets: every problem is a UserInputError that
 *    names the character index, move number and token.
 */
import { makeSanAndPlay } from 'chessops/san';
import type { NormalMove } from 'chessops/types';
import { Chess } from 'chessops/chess';
import { UserInputError } from '../../errors.js';
import { ChessPosition } from './position.js';
import { parseSanCompat } from './san.js';
import { encodeChess } from './vocab.js';

/** Labels are taken at the first 20 dots of each game (`find_dots_indices`, max_indices = 20). */
export const CHESS_DOTS_PER_GAME = 20;
/** Evaluation strings are cut to 256 characters (`max_str_length`). */
export const CHESS_EVAL_LENGTH = 256;

/** Format SAN half-moves as a transcript: `;1.e4 e5 2.Nf3`. */
export function formatTranscript(sans: readonly string[]): string {
  let s = ';';
  for (let i = 0; i < sans.length; i++) {
    if (i % 2 === 0) s += `${i === 0 ? '' : ' '}${i / 2 + 1}.${sans[i]}`;
    else s += ` ${sans[i]}`;
  }
  return s;
}

/** Play chessops moves from the initial position and format them with canonical SAN. */
export function movesToTranscript(moves: readonly NormalMove[]): string {
  const pos = Chess.default();
  const sans: string[] = [];
  for (const m of moves) sans.push(makeSanAndPlay(pos, m));
  return formatTranscript(sans);
}

export interface ReplayResult {
  /** states[k] = the position after k half-moves; states[0] is the initial position. */
  states: ChessPosition[];
  /** Whitespace-separated tokens of the string (python `str.split()`). */
  tokens: string[];
  /** How many tokens were pushed; tokens[parsedTokens] (if any) is where parsing stopped. */
  parsedTokens: number;
}

/**
 * The paper's replay (games.md §2.4 steps 1–3): split on whitespace; for a token with a dot keep the
 * text between the first and second dot (`;1.e4` → `e4`; an empty piece like `12.` is NOT skipped:
 * it fails like any unparseable token); push each as SAN with python-chess semantics; stop at the
 * first failure.
 */
export function replayTranscript(text: string): ReplayResult {
  const tokens = text.split(/\s+/).filter((t) => t.length > 0);
  let pos = ChessPosition.initial();
  const states = [pos];
  let parsed = 0;
  for (const token of tokens) {
    const dot = token.indexOf('.');
    let san = token;
    if (dot >= 0) {
      const next = token.indexOf('.', dot + 1);
      san = token.slice(dot + 1, next < 0 ? undefined : next);
    }
    const move = san.length > 0 ? parseSanCompat(pos.pos, san) : undefined;
    if (!move) break;
    pos = pos.play(move);
    states.push(pos);
    parsed++;
  }
  return { states, tokens, parsedTokens: parsed };
}

export interface ChessTranscriptAnalysis {
  text: string;
  /** Token ids (games.md §2.2). */
  tokenIds: Uint8Array;
  /** Replayed positions: states[k] after k half-moves. */
  states: ChessPosition[];
  /** For each character j, the index into `states` of its board (games.md §2.4 step 4). */
  charState: Uint16Array;
  /** Indices of the first `maxDots` `.` characters (games.md §2.5). */
  dotIndices: number[];
}

/**
 * Board-per-character: for character j with s(j) spaces in text[0..j] (a space counts for itself),
 * the board is states[min(s(j), states.length - 1)].
 */
export function charStateIndices(text: string, statesLength: number): Uint16Array {
  const out = new Uint16Array(text.length);
  const last = statesLength - 1;
  let spaces = 0;
  for (let j = 0; j < text.length; j++) {
    if (text.charCodeAt(j) === 32) spaces++;
    out[j] = spaces < last ? spaces : last;
  }
  return out;
}

/** Indices of the first `max` dots (`find_dots_indices` truncated to max_indices). */
export function findDotIndices(text: string, max = CHESS_DOTS_PER_GAME): number[] {
  const out: number[] = [];
  for (let j = 0; j < text.length && out.length < max; j++) if (text.charCodeAt(j) === 46) out.push(j);
  return out;
}

/**
 * Everything the evaluation needs from one transcript: token ids, the replayed states, the board
 * index of every character and the dot positions. `where` names the transcript in errors.
 */
export function analyzeTranscript(text: string, opts: { maxDots?: number; where?: string } = {}): ChessTranscriptAnalysis {
  const tokenIds = encodeChess(text, opts.where);
  const { states } = replayTranscript(text);
  return {
    text,
    tokenIds,
    states,
    charState: charStateIndices(text, states.length),
    dotIndices: findDotIndices(text, opts.maxDots ?? CHESS_DOTS_PER_GAME),
  };
}

/** The positions at the first `maxDots` dots of a transcript (White to move at each, games.md §2.4). */
export function dotPositions(text: string, maxDots = CHESS_DOTS_PER_GAME): ChessPosition[] {
  const a = analyzeTranscript(text, { maxDots });
  return a.dotIndices.map((j) => a.states[a.charState[j]]);
}

export interface ParsedTranscript {
  /** Canonical SAN of every complete half-move (chessops `makeSan`). */
  sans: string[];
  /** The chessops moves. */
  moves: NormalMove[];
  /** True when the text ends inside a half-move that was cut off (only with allowTruncatedEnd). */
  truncatedEnd: boolean;
  /** The text re-rendered from canonical SAN (without a truncated tail). */
  canonical: string;
}

/**
 * Strict reader for imported transcripts. Checks the format of games.md §2.1 (delimiter, move
 * numbers, single spaces), the vocabulary, and the legality of every move. With
 * `allowTruncatedEnd`, a last token that is a prefix of a move (the cut of a fixed-length block)
 * is accepted and reported. Errors name `where`, the character index, the move and the token.
 */
export function parseTranscript(text: string, opts: { where?: string; allowTruncatedEnd?: boolean } = {}): ParsedTranscript {
  const where = opts.where ? `${opts.where}: ` : '';
  encodeChess(text, opts.where);
  if (!text.startsWith(';')) throw new UserInputError(`${where}transcript must start with ';' (got ${JSON.stringify(text.slice(0, 12))})`);
  const pos = Chess.default();
  const sans: string[] = [];
  const moves: NormalMove[] = [];
  let truncatedEnd = false;
  let i = 1;
  let ply = 0;
  while (i < text.length) {
    if (ply > 0) {
      if (text[i] !== ' ') throw new UserInputError(`${where}expected a single space at index ${i}`);
      i++;
    }
    const tokenStart = i;
    let end = text.indexOf(' ', i);
    if (end < 0) end = text.length;
    const token = text.slice(tokenStart, end);
    const isLast = end === text.length;
    const moveNo = Math.floor(ply / 2) + 1;
    const label = `move ${moveNo}${ply % 2 === 0 ? '.' : '...'}`;
    let san = token;
    if (ply % 2 === 0) {
      const prefix = `${moveNo}.`;
      if (!token.startsWith(prefix)) {
        if (isLast && opts.allowTruncatedEnd && prefix.startsWith(token)) {
          truncatedEnd = token.length > 0;
          break;
        }
        throw new UserInputError(`${where}expected move number "${prefix}" at index ${tokenStart} (${label}), got ${JSON.stringify(token)}`);
      }
      san = token.slice(prefix.length);
    }
    if (san.length === 0) {
      if (isLast && opts.allowTruncatedEnd) {
        truncatedEnd = true;
        break;
      }
      throw new UserInputError(`${where}empty move at index ${tokenStart} (${label})`);
    }
    const move = parseSanCompat(pos, san);
    if (!move) {
      if (isLast && opts.allowTruncatedEnd) {
        truncatedEnd = true;
        break;
      }
      throw new UserInputError(`${where}illegal or unparseable move ${JSON.stringify(san)} at index ${tokenStart} (${label})`, {
        index: tokenStart,
        move: moveNo,
        token: san,
      });
    }
    sans.push(makeSanAndPlay(pos, move));
    moves.push(move);
    ply++;
    i = end;
  }
  return { sans, moves, truncatedEnd, canonical: formatTranscript(sans) };
}

/**
 * Whether a game can enter the paper's BSP evaluation (games.md §2.3, §3): at least 256 characters
 * and at least 20 dots within the first 256.
 */
export function isEvaluableChessGame(text: string, length = CHESS_EVAL_LENGTH, dots = CHESS_DOTS_PER_GAME): boolean {
  return text.length >= length && findDotIndices(text.slice(0, length), dots).length >= dots;
}
