/**
 * OthelloGPT tokenizer (games.md §1.3, vocab 61): token 0 = padding ("no move"), tokens 1..60 = the
 * 60 non-centre squares in increasing square order. t ∈ 1..27 → t-1; 28..33 → t+1; 34..60 → t+3.
 */
import { UserInputError } from '../../errors.js';
import { squareName } from './board.js';

export const OTHELLO_TOKENIZER_ID = 'othello-61';
export const OTHELLO_VOCAB_SIZE = 61;
export const OTHELLO_PAD_TOKEN = 0;
/** The paper's model context: inputs are moves 1..59, it predicts moves 2..60. */
export const OTHELLO_CTX_LEN = 59;
export const OTHELLO_MAX_MOVES = 60;

/** TOKEN_TO_SQUARE[t] for t in 1..60; TOKEN_TO_SQUARE[0] = -1 (padding). */
export const TOKEN_TO_SQUARE = new Int8Array(OTHELLO_VOCAB_SIZE);
/** SQUARE_TO_TOKEN[p]; 0 for the four centre squares, which are never moves. */
export const SQUARE_TO_TOKEN = new Uint8Array(64);
TOKEN_TO_SQUARE[0] = -1;
for (let t = 1; t < OTHELLO_VOCAB_SIZE; t++) {
  const p = t <= 27 ? t - 1 : t <= 33 ? t + 1 : t + 3;
  TOKEN_TO_SQUARE[t] = p;
  SQUARE_TO_TOKEN[p] = t;
}

export function squareToToken(p: number): number {
  const t = Number.isInteger(p) && p >= 0 && p < 64 ? SQUARE_TO_TOKEN[p] : 0;
  if (t === 0) throw new UserInputError(`square ${p} has no token (centre squares and indices outside 0..63 are never moves)`);
  return t;
}

export function tokenToSquare(t: number): number {
  if (!Number.isInteger(t) || t < 1 || t >= OTHELLO_VOCAB_SIZE) {
    throw new UserInputError(`token ${t} is not a move token (expected 1..60; 0 is padding)`);
  }
  return TOKEN_TO_SQUARE[t];
}

/** Human-readable vocabulary (index = token id): "<pad>", "a1", "a2", ... */
export function othelloVocab(): string[] {
  return Array.from({ length: OTHELLO_VOCAB_SIZE }, (_, t) => (t === 0 ? '<pad>' : squareName(TOKEN_TO_SQUARE[t])));
}

/** Encode squares to tokens, padding with 0 up to `length` (default: no padding). */
export function encodeOthello(squares: ArrayLike<number>, length = squares.length): Uint8Array {
  if (squares.length > length) throw new UserInputError(`game has ${squares.length} moves, more than the ${length} slots`);
  const out = new Uint8Array(length);
  for (let i = 0; i < squares.length; i++) out[i] = squareToToken(squares[i]);
  return out;
}

/** Decode tokens to squares, stopping at the first padding token. */
export function decodeOthello(tokens: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] === OTHELLO_PAD_TOKEN) break;
    out.push(tokenToSquare(tokens[i]));
  }
  return out;
}
