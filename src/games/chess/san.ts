/**
 * SAN parsing with python-chess's `Board.parse_san` semantics, on top of chessops.
 *
 * The paper's labels replay transcripts with python-chess `push_san` and stop at the first token
 * that fails (games.md §2.4), so *which* tokens parse decides the labels at the truncation point.
 * chessops' `parseSan` agrees with python-chess on every canonical SAN and on truncated prefixes;
 * this wrapper adds the three extras python-chess accepts that chessops does not:
 *   - castling written with digit zeros (`0-0`, `0-0-0`, with `+`/`#`);
 *   - "fully specified" moves without a piece letter (`g1f3`, `e1g1`), which python-chess resolves
 *     by origin and destination square whatever the piece (castling included);
 * Null moves (`--`, `0000`) are the one python-chess extra we do not support: python-chess would
 * play a null move, we treat them as unparseable (they never occur in real transcripts).
 */
import type { Position } from 'chessops/chess';
import { normalizeMove } from 'chessops/chess';
import { parseSan } from 'chessops/san';
import type { NormalMove } from 'chessops/types';
import { charToRole } from 'chessops/util';

// A Map, not an object literal: a token such as "valueOf" must not find Object.prototype's members.
const ZERO_CASTLING = new Map<string, string>([
  ['0-0', 'O-O'], ['0-0+', 'O-O+'], ['0-0#', 'O-O#'],
  ['0-0-0', 'O-O-O'], ['0-0-0+', 'O-O-O+'], ['0-0-0#', 'O-O-O#'],
]);

// Same shape as python-chess's SAN_REGEX.
const FULLY_SPECIFIED = /^([a-h])([1-8])[-x]?([a-h][1-8])(=?[nbrqkNBRQK])?[+#]?$/;

/**
 * Parse `san` in `pos` like python-chess would. Returns a chessops move (castling as king → rook
 * square, chessops' convention) or undefined when python-chess would raise.
 */
export function parseSanCompat(pos: Position, san: string): NormalMove | undefined {
  const zero = ZERO_CASTLING.get(san);
  const move = parseSan(pos, zero ?? san);
  if (move) return move as NormalMove;
  if (zero) return undefined;
  const m = FULLY_SPECIFIED.exec(san);
  if (!m) return undefined;
  // python-chess find_move(): any own piece, origin and destination given, promotion must match.
  const from = (m[1].charCodeAt(0) - 97) + 8 * (m[2].charCodeAt(0) - 49);
  const to = (m[3].charCodeAt(0) - 97) + 8 * (m[3].charCodeAt(1) - 49);
  const promotion = m[4] ? charToRole(m[4][m[4].length - 1]) : undefined;
  const candidate: NormalMove = promotion ? { from, to, promotion } : { from, to };
  if (!pos.isLegal(candidate)) return undefined;
  return normalizeMove(pos, candidate) as NormalMove;
}
