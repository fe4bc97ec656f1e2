/**
 * Othello transcripts from outside (text files, token arrays): parsing and strict validation.
 * A transcript is a list of moves; passes are implicit (no pass token), as in the paper's data.
 * Validation is stricter than the engine's `umpire`: a move must be in `get_valid_moves()`, so a
 * "pass-then-move" while the side to move still had legal moves is rejected (games.md §3 third
 * pass), as is anything after the game has ended.
 */
import { UserInputError } from '../../errors.js';
import { IllegalMoveError, OthelloBoard, parseSquare, squareName } from './board.js';
import { OTHELLO_MAX_MOVES, OTHELLO_PAD_TOKEN, OTHELLO_VOCAB_SIZE, TOKEN_TO_SQUARE } from './tokenizer.js';

/** How bare numbers in a text transcript are read. */
export type OthelloNumbering = 'token' | 'square';

/**
 * Parse one transcript line: moves separated by spaces and/or commas, each either a square name
 * ("d3", letter = row a..h, digit = column 1..8 — Li et al.'s naming) or a number (a token id
 * 1..60, or a square index 0..63 with numbering 'square'). Also accepts the compact "f5d6c3" form.
 * `where` names the place for error messages ("games.txt line 12").
 */
export function parseOthelloLine(line: string, where: string, numbering: OthelloNumbering = 'token'): number[] {
  const text = line.trim();
  if (!text) return [];
  let items = text.split(/[\s,;]+/).filter(Boolean);
  if (items.length === 1 && /^([a-hA-H][1-8]){2,}$/.test(items[0])) items = items[0].match(/../g)!;
  const squares: number[] = [];
  items.forEach((item, i) => {
    const at = `${where}, move ${i + 1} ("${item}")`;
    if (/^\d+$/.test(item)) {
      const n = Number(item);
      if (numbering === 'token') {
        if (n === OTHELLO_PAD_TOKEN) {
          squares.push(-1); // padding: marks the end, checked below
          return;
        }
        if (n < 1 || n >= OTHELLO_VOCAB_SIZE) throw new UserInputError(`${at}: token ids are 1..60 (0 = padding)`);
        squares.push(TOKEN_TO_SQUARE[n]);
      } else {
        if (n > 63) throw new UserInputError(`${at}: square indices are 0..63`);
        squares.push(n);
      }
      return;
    }
    const p = parseSquare(item);
    if (p < 0) throw new UserInputError(`${at}: not a square name (a1..h8) or a number`);
    squares.push(p);
  });
  // Trailing padding is allowed (fixed-width token rows); a move after padding is not.
  const firstPad = squares.indexOf(-1);
  if (firstPad >= 0) {
    const after = squares.findIndex((s, i) => i > firstPad && s !== -1);
    if (after >= 0) throw new UserInputError(`${where}, move ${after + 1}: a move follows padding token 0 at move ${firstPad + 1}`);
    squares.length = firstPad;
  }
  return squares;
}

export interface ReplayedOthelloGame {
  squares: number[];
  /** Colour of each move (+1 black, -1 white). */
  colors: number[];
  /** Number of pass-then-move events. */
  passes: number;
  /** True when neither side can move after the last move. */
  finished: boolean;
  blackDiscs: number;
  whiteDiscs: number;
}

/** Replay squares with strict legality; errors name `where` and the 1-based move number. */
export function replayOthello(squares: ArrayLike<number>, where: string): ReplayedOthelloGame {
  if (squares.length > OTHELLO_MAX_MOVES) {
    throw new UserInputError(`${where}: ${squares.length} moves, but an Othello game has at most ${OTHELLO_MAX_MOVES}`);
  }
  const board = new OthelloBoard();
  const colors: number[] = [];
  for (let i = 0; i < squares.length; i++) {
    const p = squares[i];
    try {
      if (board.isGameOver()) throw new IllegalMoveError('the game is already over');
      colors.push(board.playStrict(p));
    } catch (err) {
      if (err instanceof IllegalMoveError) {
        const name = Number.isInteger(p) && p >= 0 && p < 64 ? squareName(p) : String(p);
        throw new UserInputError(`${where}, move ${i + 1} (${name}): illegal move: ${err.message}`);
      }
      throw err;
    }
  }
  return {
    squares: Array.from(squares),
    colors,
    passes: board.passes,
    finished: board.isGameOver(),
    blackDiscs: board.count(1),
    whiteDiscs: board.count(-1),
  };
}
