/**
 * Fast path: label many games at once, straight from token rows, into one (positions × cells) 0/1
 * byte matrix per family. One engine replay per game serves every family; nothing allocates per
 * position. This is what evaluation (59,000+ positions × BSPs) and the dataset writer use.
 */
import { UserInputError } from '../../errors.js';
import { IllegalMoveError, OthelloBoard } from './board.js';
import type { OthelloBspFamily } from './bsp.js';
import { OTHELLO_CTX_LEN, OTHELLO_PAD_TOKEN, OTHELLO_VOCAB_SIZE, TOKEN_TO_SQUARE } from './tokenizer.js';

export interface OthelloTokenRows {
  /** Row-major [nGames, stride] token ids; 0 = padding (ends a game). */
  tokens: Uint8Array;
  nGames: number;
  stride: number;
}

export interface OthelloLabelOptions {
  /** Positions labelled per game: token indices 0..positionsPerGame-1 (default 59, games.md §1.4). */
  positionsPerGame?: number;
  /** Added to game indices in positionGame and in error messages (e.g. the shard's first game). */
  gameOffset?: number;
  /** Only label games [from, to) of the rows (default all). */
  from?: number;
  to?: number;
  /** Reuse output buffers (each at least nPositions × cells long). */
  out?: Uint8Array[];
}

export interface OthelloLabels {
  nPositions: number;
  /** Game index (row + gameOffset) of each position. */
  positionGame: Int32Array;
  /** Token index i of each position: the label is the board after move i. */
  positionIndex: Int16Array;
  /** One (nPositions × family.cells) row-major 0/1 matrix per requested family. */
  labels: Uint8Array[];
}

/** Positions a token row yields: min(positionsPerGame, moves before the first padding token). */
export function othelloPositionCount(tokens: Uint8Array, rowStart: number, stride: number, positionsPerGame: number): number {
  const limit = Math.min(positionsPerGame, stride);
  let n = 0;
  while (n < limit && tokens[rowStart + n] !== OTHELLO_PAD_TOKEN) n++;
  return n;
}

export function labelOthelloGames(rows: OthelloTokenRows, families: readonly OthelloBspFamily[], opts: OthelloLabelOptions = {}): OthelloLabels {
  const { tokens, stride } = rows;
  const per = opts.positionsPerGame ?? OTHELLO_CTX_LEN;
  const from = opts.from ?? 0;
  const to = opts.to ?? rows.nGames;
  const gameOffset = opts.gameOffset ?? 0;
  if (tokens.length < rows.nGames * stride) {
    throw new UserInputError(`token rows: expected ${rows.nGames} × ${stride} tokens, got ${tokens.length}`);
  }
  let nPositions = 0;
  for (let g = from; g < to; g++) nPositions += othelloPositionCount(tokens, g * stride, stride, per);

  const labels = families.map((f, k) => {
    const need = nPositions * f.cells;
    const given = opts.out?.[k];
    if (given && given.length < need) throw new RangeError(`output buffer ${k} holds ${given.length} bytes, need ${need}`);
    return given ?? new Uint8Array(need);
  });
  const positionGame = new Int32Array(nPositions);
  const positionIndex = new Int16Array(nPositions);
  const board = new OthelloBoard();
  const nf = families.length;
  let row = 0;
  for (let g = from; g < to; g++) {
    const base = g * stride;
    const n = othelloPositionCount(tokens, base, stride, per);
    board.reset();
    for (let i = 0; i < n; i++) {
      const t = tokens[base + i];
      if (t >= OTHELLO_VOCAB_SIZE) throw new UserInputError(`game ${g + gameOffset}, move ${i + 1}: token ${t} is outside the vocabulary 0..60`);
      try {
        board.play(TOKEN_TO_SQUARE[t]);
      } catch (err) {
        if (err instanceof IllegalMoveError) throw new UserInputError(`game ${g + gameOffset}, move ${i + 1}: illegal move: ${err.message}`);
        throw err;
      }
      positionGame[row] = g + gameOffset;
      positionIndex[row] = i;
      for (let k = 0; k < nf; k++) families[k].label(board, labels[k], row * families[k].cells);
      row++;
    }
  }
  return { nPositions, positionGame, positionIndex, labels };
}
