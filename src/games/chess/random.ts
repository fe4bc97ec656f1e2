/**
 * Uniformly-random legal-move chess games, for tests and quick pipelines. Each half-move is drawn
 * uniformly from python-chess's legal move list (one entry per promotion piece). A game ends at
 * checkmate, stalemate, insufficient material, the fifty-move rule (100 half-moves without a pawn
 * move or capture), threefold repetition, or `maxPlies`. These are NOT human games: datasets made
 * from them must say so (`source`).
 */
import { Chess } from 'chessops/chess';
import { makeSanAndPlay } from 'chessops/san';
import type { NormalMove } from 'chessops/types';
import { ChessPosition } from './position.js';
import { seededRng } from './rng.js';
import { formatTranscript } from './transcript.js';

export type ChessTermination = 'checkmate' | 'stalemate' | 'insufficient_material' | 'fifty_moves' | 'threefold_repetition' | 'max_plies';

export interface GeneratedChessGame {
  /** Paper-format transcript, `;1.e4 e5 ...`. */
  transcript: string;
  plies: number;
  termination: ChessTermination;
  /** "1-0", "0-1", "1/2-1/2" or "*" (max_plies). */
  result: string;
  /** Where the game came from, for dataset metadata. */
  source: string;
}

export interface RandomGameOptions {
  /** Games to generate (default: unbounded; stop iterating when you have enough). */
  count?: number;
  seed?: number;
  /** Cut games longer than this many half-moves (default 400). */
  maxPlies?: number;
  /** Keep only games whose transcript has at least this many characters (default 0). */
  minChars?: number;
}

export function randomGameSource(opts: RandomGameOptions = {}): string {
  return `uniformly random legal moves (seed ${opts.seed ?? 0}, maxPlies ${opts.maxPlies ?? 400}); synthetic, not human games`;
}

/** One random game from `rng`. */
export function randomChessGame(rng: { int(n: number): number }, maxPlies = 400, source = 'uniformly random legal moves'): GeneratedChessGame {
  let pos = ChessPosition.initial();
  const sanPos = Chess.default();
  const sans: string[] = [];
  const seen = new Map<string, number>();
  seen.set(pos.repetitionKey(), 1);
  let termination: ChessTermination = 'max_plies';
  let result = '*';
  while (sans.length < maxPlies) {
    const { moves } = pos.legalMoves();
    if (moves.length === 0) {
      if (pos.pos.isCheck()) {
        termination = 'checkmate';
        result = pos.turn === 'white' ? '0-1' : '1-0';
      } else {
        termination = 'stalemate';
        result = '1/2-1/2';
      }
      break;
    }
    if (pos.pos.isInsufficientMaterial()) {
      termination = 'insufficient_material';
      result = '1/2-1/2';
      break;
    }
    if (pos.pos.halfmoves >= 100) {
      termination = 'fifty_moves';
      result = '1/2-1/2';
      break;
    }
    const move: NormalMove = moves[rng.int(moves.length)];
    sans.push(makeSanAndPlay(sanPos, move));
    pos = pos.play(move);
    const key = pos.repetitionKey();
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    if (n >= 3) {
      termination = 'threefold_repetition';
      result = '1/2-1/2';
      break;
    }
  }
  return { transcript: formatTranscript(sans), plies: sans.length, termination, result, source };
}

/** Seeded stream of random games (an async iterable so dataset writers can stream it). */
export async function* randomChessGames(opts: RandomGameOptions = {}): AsyncGenerator<GeneratedChessGame> {
  yield* randomChessGamesSync(opts);
}

export function* randomChessGamesSync(opts: RandomGameOptions = {}): Generator<GeneratedChessGame> {
  const rng = seededRng(opts.seed ?? 0);
  const source = randomGameSource(opts);
  const count = opts.count ?? Infinity;
  let produced = 0;
  while (produced < count) {
    const game = randomChessGame(rng, opts.maxPlies ?? 400, source);
    if (game.transcript.length < (opts.minChars ?? 0)) continue;
    produced++;
    yield game;
  }
}
