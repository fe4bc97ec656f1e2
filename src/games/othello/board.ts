/**
 * Othello rules engine with the exact semantics of the paper's labelling engine
 * (`OthelloBoardState` in SAE_BoardGameEval / othello_world, games.md §1.1):
 *
 * - square p = 8*r + c; its name is "abcdefgh"[r] + (c+1) (Li et al.: letter = row, digit = column);
 * - start: d4 (p27) and e5 (p36) white, d5 (p28) and e4 (p35) black; black (+1) moves first;
 * - playing p flips every run of opponent discs capped by a disc of the mover, in 8 directions;
 * - passes are implicit: if p flips nothing for the side to move, the engine treats it as a pass and
 *   plays p for the opponent (`umpire`); if that flips nothing either, the move is illegal;
 * - valid moves are the mover's flipping squares, else the opponent's (forfeit), else none: game over.
 *
 * The board is two bitboards (black, white), each held as two uint32 halves because JS bitwise
 * operators are 32-bit: `lo` holds squares 0..31 (rows a..d), `hi` holds 32..63 (rows e..h). Move
 * generation is a branch-free directional fill over both halves; a move's flips walk precomputed
 * rays. Nothing allocates on the hot path.
 */
import { UserInputError } from '../../errors.js';

export const BLACK = 1;
export const WHITE = -1;
export type Color = 1 | -1;

export const ROW_NAMES = 'abcdefgh';

/** The 8 directions (dr, dc) in the engine's order: N, NE, E, SE, S, SW, W, NW. */
export const DIRECTIONS: readonly (readonly [number, number])[] = [
  [-1, 0],
  [-1, 1],
  [0, 1],
  [1, 1],
  [1, 0],
  [1, -1],
  [0, -1],
  [-1, -1],
];
export const DIRECTION_NAMES = ['N', 'NE', 'E', 'SE', 'S', 'SW', 'W', 'NW'] as const;

/** Centre squares: occupied from the start, so never a move and never a token. */
export const CENTRE_SQUARES: readonly number[] = [27, 28, 35, 36];

export function squareName(p: number): string {
  if (!Number.isInteger(p) || p < 0 || p > 63) throw new RangeError(`square index ${p} is outside 0..63`);
  return ROW_NAMES[p >> 3] + String((p & 7) + 1);
}

/** Parse "d5" (case-insensitive) to 28; -1 when the text is not a square name. */
export function parseSquare(name: string): number {
  if (name.length !== 2) return -1;
  const r = ROW_NAMES.indexOf(name[0].toLowerCase());
  const c = name.charCodeAt(1) - 49; // '1' → 0
  if (r < 0 || c < 0 || c > 7) return -1;
  return r * 8 + c;
}

/**
 * RAYS[(p * 8 + d) * 8 + k] = the k-th square from p in direction d, or -1 past the edge.
 * Walking a ray stops at the first -1.
 */
const RAYS = new Int8Array(64 * 8 * 8).fill(-1);
for (let p = 0; p < 64; p++) {
  for (let d = 0; d < 8; d++) {
    let r = p >> 3;
    let c = p & 7;
    for (let k = 0; k < 8; k++) {
      r += DIRECTIONS[d][0];
      c += DIRECTIONS[d][1];
      if (r < 0 || r > 7 || c < 0 || c > 7) break;
      RAYS[(p * 8 + d) * 8 + k] = r * 8 + c;
    }
  }
}
export { RAYS };

// Directional shifts of a 64-bit set: bit p moves to p + SHIFT[d]. MASK[d] clears the squares a
// horizontal step would have wrapped into (column 1 after moving east, column 8 after moving west).
const NOT_COL1 = 0xfefefefe | 0; // every row's c=0 bit cleared
const NOT_COL8 = 0x7f7f7f7f | 0; // every row's c=7 bit cleared
const SHIFT = new Int8Array([-8, -7, 1, 9, 8, 7, -1, -9]);
const MASK = new Int32Array([-1, NOT_COL1, NOT_COL1, NOT_COL1, -1, NOT_COL8, NOT_COL8, NOT_COL8]);

/**
 * Squares where `own` can play (flip at least one `opp` disc): the classic directional fill
 * (at most 6 opponent discs in a line). Writes the set to out[0] (lo) and out[1] (hi).
 */
export function movesMask(ownLo: number, ownHi: number, oppLo: number, oppHi: number, out: Int32Array): void {
  const emptyLo = ~(ownLo | oppLo);
  const emptyHi = ~(ownHi | oppHi);
  let mLo = 0;
  let mHi = 0;
  for (let d = 0; d < 8; d++) {
    const k = SHIFT[d];
    const m = MASK[d];
    let xLo: number;
    let xHi: number;
    if (k > 0) {
      const j = 32 - k;
      xLo = (ownLo << k) & m & oppLo;
      xHi = ((ownHi << k) | (ownLo >>> j)) & m & oppHi;
      for (let i = 0; i < 5; i++) {
        const tLo = (xLo << k) & m & oppLo;
        const tHi = ((xHi << k) | (xLo >>> j)) & m & oppHi;
        xLo |= tLo;
        xHi |= tHi;
      }
      mLo |= (xLo << k) & m & emptyLo;
      mHi |= ((xHi << k) | (xLo >>> j)) & m & emptyHi;
    } else {
      const s = -k;
      const j = 32 - s;
      xLo = ((ownLo >>> s) | (ownHi << j)) & m & oppLo;
      xHi = (ownHi >>> s) & m & oppHi;
      for (let i = 0; i < 5; i++) {
        const tLo = ((xLo >>> s) | (xHi << j)) & m & oppLo;
        const tHi = (xHi >>> s) & m & oppHi;
        xLo |= tLo;
        xHi |= tHi;
      }
      mLo |= ((xLo >>> s) | (xHi << j)) & m & emptyLo;
      mHi |= (xHi >>> s) & m & emptyHi;
    }
  }
  out[0] = mLo;
  out[1] = mHi;
}

export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Index (0..31) of the n-th (0-based) set bit of x; x must have more than n bits set. */
export function nthSetBit32(x: number, n: number): number {
  for (let i = 0; i < n; i++) x &= x - 1;
  return 31 - Math.clz32(x & -x);
}

export function bitAt(lo: number, hi: number, p: number): number {
  return p < 32 ? (lo >>> p) & 1 : (hi >>> (p - 32)) & 1;
}

/** Squares of a 64-bit set in increasing order. */
export function maskToSquares(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let p = 0; p < 64; p++) if (bitAt(lo, hi, p)) out.push(p);
  return out;
}

export class IllegalMoveError extends UserInputError {}

/** Read-only view of a position, as BSP families see it. */
export interface OthelloPosition {
  readonly blackLo: number;
  readonly blackHi: number;
  readonly whiteLo: number;
  readonly whiteHi: number;
  /** Side to move next in the engine's bookkeeping (+1 black, -1 white). */
  readonly nextColor: Color;
  /** Number of moves played so far; the label of position i is taken when ply = i + 1. */
  readonly ply: number;
}

const scratch = new Int32Array(2);

export class OthelloBoard implements OthelloPosition {
  blackLo = 0;
  blackHi = 0;
  whiteLo = 0;
  whiteHi = 0;
  nextColor: Color = BLACK;
  ply = 0;
  /** Moves so far that were pass-then-move (the mover's colour equals the previous mover's). */
  passes = 0;
  /** Colour that made the last move (0 before the first move). */
  lastColor: 0 | Color = 0;
  /** Squares flipped by the last move (lo/hi halves). */
  flippedLo = 0;
  flippedHi = 0;

  constructor() {
    this.reset();
  }

  reset(): this {
    // d5 = p28 and e4 = p35 black; d4 = p27 and e5 = p36 white.
    this.blackLo = 1 << 28;
    this.blackHi = 1 << (35 - 32);
    this.whiteLo = 1 << 27;
    this.whiteHi = 1 << (36 - 32);
    this.nextColor = BLACK;
    this.ply = 0;
    this.passes = 0;
    this.lastColor = 0;
    this.flippedLo = 0;
    this.flippedHi = 0;
    return this;
  }

  copyFrom(o: OthelloBoard): this {
    this.blackLo = o.blackLo;
    this.blackHi = o.blackHi;
    this.whiteLo = o.whiteLo;
    this.whiteHi = o.whiteHi;
    this.nextColor = o.nextColor;
    this.ply = o.ply;
    this.passes = o.passes;
    this.lastColor = o.lastColor;
    this.flippedLo = o.flippedLo;
    this.flippedHi = o.flippedHi;
    return this;
  }

  clone(): OthelloBoard {
    return new OthelloBoard().copyFrom(this);
  }

  /** +1 black, -1 white, 0 empty. */
  at(p: number): number {
    if (bitAt(this.blackLo, this.blackHi, p)) return BLACK;
    if (bitAt(this.whiteLo, this.whiteHi, p)) return WHITE;
    return 0;
  }

  /** The engine's 8×8 `state` flattened: +1 black, -1 white, 0 empty. */
  toArray(out = new Int8Array(64)): Int8Array {
    for (let p = 0; p < 64; p++) out[p] = this.at(p);
    return out;
  }

  count(color: Color): number {
    return color === BLACK
      ? popcount32(this.blackLo) + popcount32(this.blackHi)
      : popcount32(this.whiteLo) + popcount32(this.whiteHi);
  }

  /** Squares where `color` can flip something, into out[0..1]. */
  movesFor(color: Color, out: Int32Array): void {
    if (color === BLACK) movesMask(this.blackLo, this.blackHi, this.whiteLo, this.whiteHi, out);
    else movesMask(this.whiteLo, this.whiteHi, this.blackLo, this.blackHi, out);
  }

  /**
   * `get_valid_moves()` as a 64-bit set: the side to move's flipping squares, else (forfeit) the
   * opponent's, else empty (game over).
   */
  validMovesMask(out: Int32Array): void {
    this.movesFor(this.nextColor, out);
    if ((out[0] | out[1]) === 0) this.movesFor(-this.nextColor as Color, out);
  }

  validMoves(): number[] {
    this.validMovesMask(scratch);
    return maskToSquares(scratch[0], scratch[1]);
  }

  isGameOver(): boolean {
    this.validMovesMask(scratch);
    return (scratch[0] | scratch[1]) === 0;
  }

  /**
   * Flips that `color` would make by playing p (empty square assumed), into flippedLo/Hi.
   * Returns true when at least one disc flips.
   */
  private computeFlips(p: number, color: Color): boolean {
    const ownLo = color === BLACK ? this.blackLo : this.whiteLo;
    const ownHi = color === BLACK ? this.blackHi : this.whiteHi;
    const oppLo = color === BLACK ? this.whiteLo : this.blackLo;
    const oppHi = color === BLACK ? this.whiteHi : this.blackHi;
    let fLo = 0;
    let fHi = 0;
    const base = p * 64;
    for (let d = 0; d < 8; d++) {
      let rLo = 0;
      let rHi = 0;
      const rayBase = base + d * 8;
      for (let k = 0; k < 8; k++) {
        const q = RAYS[rayBase + k];
        if (q < 0) break;
        if (q < 32) {
          const bit = 1 << q;
          if (oppLo & bit) {
            rLo |= bit;
            continue;
          }
          if (ownLo & bit) {
            fLo |= rLo;
            fHi |= rHi;
          }
        } else {
          const bit = 1 << (q - 32);
          if (oppHi & bit) {
            rHi |= bit;
            continue;
          }
          if (ownHi & bit) {
            fLo |= rLo;
            fHi |= rHi;
          }
        }
        break;
      }
    }
    this.flippedLo = fLo;
    this.flippedHi = fHi;
    return (fLo | fHi) !== 0;
  }

  private apply(p: number, color: Color): void {
    const fLo = this.flippedLo;
    const fHi = this.flippedHi;
    if (color === BLACK) {
      this.blackLo |= fLo;
      this.blackHi |= fHi;
      this.whiteLo &= ~fLo;
      this.whiteHi &= ~fHi;
      if (p < 32) this.blackLo |= 1 << p;
      else this.blackHi |= 1 << (p - 32);
    } else {
      this.whiteLo |= fLo;
      this.whiteHi |= fHi;
      this.blackLo &= ~fLo;
      this.blackHi &= ~fHi;
      if (p < 32) this.whiteLo |= 1 << p;
      else this.whiteHi |= 1 << (p - 32);
    }
    if (this.lastColor === color) this.passes++;
    this.lastColor = color;
    this.nextColor = -color as Color;
    this.ply++;
  }

  /**
   * The engine's `umpire(p)`: play p for the side to move, or — if that flips nothing — for the
   * opponent (an implicit pass). Throws IllegalMoveError when p is occupied or flips nothing for
   * either side. Note this accepts a pass-then-move even when the side to move had other legal
   * moves (faithful to the engine); use `playStrict` to reject that.
   */
  play(p: number): Color {
    if (!Number.isInteger(p) || p < 0 || p > 63) throw new IllegalMoveError(`square index ${p} is outside 0..63`);
    if (bitAt(this.blackLo | this.whiteLo, this.blackHi | this.whiteHi, p)) {
      throw new IllegalMoveError(`${squareName(p)} is already occupied`);
    }
    let color = this.nextColor;
    if (!this.computeFlips(p, color)) {
      color = -color as Color;
      if (!this.computeFlips(p, color)) {
        throw new IllegalMoveError(
          this.isGameOver() ? `${squareName(p)}: the game is already over` : `${squareName(p)} flips nothing for either side`,
        );
      }
    }
    this.apply(p, color);
    return color;
  }

  /**
   * Play p only if it is in `get_valid_moves()`: the side to move must use one of its own moves
   * when it has any, and a pass is accepted only when it has none. Returns the colour that moved.
   */
  playStrict(p: number): Color {
    if (!Number.isInteger(p) || p < 0 || p > 63) throw new IllegalMoveError(`square index ${p} is outside 0..63`);
    if (bitAt(this.blackLo | this.whiteLo, this.blackHi | this.whiteHi, p)) {
      throw new IllegalMoveError(`${squareName(p)} is already occupied`);
    }
    this.movesFor(this.nextColor, scratch);
    if ((scratch[0] | scratch[1]) !== 0) {
      if (!bitAt(scratch[0], scratch[1], p)) {
        const who = this.nextColor === BLACK ? 'black' : 'white';
        throw new IllegalMoveError(`${squareName(p)} is not a legal move for ${who} (to move, with legal moves available)`);
      }
      this.computeFlips(p, this.nextColor);
      const c = this.nextColor;
      this.apply(p, c);
      return c;
    }
    return this.play(p);
  }

  /** Play a move known to be in validMovesMask (generator fast path: no checks). */
  playValid(p: number, ownHadMoves: boolean): void {
    const color = ownHadMoves ? this.nextColor : (-this.nextColor as Color);
    this.computeFlips(p, color);
    this.apply(p, color);
  }

  /** Text diagram: X black, O white, . empty; rows a..h, columns 1..8. */
  toString(): string {
    const lines = ['  1 2 3 4 5 6 7 8'];
    for (let r = 0; r < 8; r++) {
      let line = ROW_NAMES[r];
      for (let c = 0; c < 8; c++) {
        const v = this.at(r * 8 + c);
        line += ' ' + (v === BLACK ? 'X' : v === WHITE ? 'O' : '.');
      }
      lines.push(line);
    }
    return lines.join('\n');
  }
}

/** Set a board from an 8×8 (flattened) array of +1/-1/0 — for tests and hand-made positions. */
export function boardFromArray(cells: ArrayLike<number>, nextColor: Color = BLACK, ply = 0): OthelloBoard {
  if (cells.length !== 64) throw new UserInputError(`expected 64 cells, got ${cells.length}`);
  const b = new OthelloBoard();
  b.blackLo = b.blackHi = b.whiteLo = b.whiteHi = 0;
  for (let p = 0; p < 64; p++) {
    const v = cells[p];
    if (v === 0) continue;
    if (v !== 1 && v !== -1) throw new UserInputError(`cell ${squareName(p)} has value ${v}; expected -1, 0 or 1`);
    if (v === 1) {
      if (p < 32) b.blackLo |= 1 << p;
      else b.blackHi |= 1 << (p - 32);
    } else if (p < 32) b.whiteLo |= 1 << p;
    else b.whiteHi |= 1 << (p - 32);
  }
  b.nextColor = nextColor;
  b.ply = ply;
  return b;
}

/** Parse a diagram like the one `toString` prints (X/B = black, O/W = white, . or - = empty). */
export function boardFromDiagram(diagram: string, nextColor: Color = BLACK, ply = 0): OthelloBoard {
  const cells: number[] = [];
  for (const ch of diagram.replace(/^\s*1 2 3 4 5 6 7 8\s*$/m, '').replace(/^[a-h]/gm, '')) {
    if (ch === 'X' || ch === 'B') cells.push(1);
    else if (ch === 'O' || ch === 'W') cells.push(-1);
    else if (ch === '.' || ch === '-') cells.push(0);
  }
  return boardFromArray(cells, nextColor, ply);
}
