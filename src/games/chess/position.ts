/**
 * A chess position as the BSP functions see it: a chessops `Chess` position plus what python-chess's
 * `Board` would also know (the repetition window of its move stack, for `can_claim_draw`), with
 * lazily computed, memoised analyses that several BSP families share (legal moves, attacks, pins).
 *
 * Every analysis reproduces the python-chess call the paper's label code makes (games.md §2.6):
 *  - legal / pseudo-legal moves with python-chess's move *destinations*: castling goes to g1/c1
 *    (chessops encodes it as king → rook square, which we translate), promotions are 4 moves;
 *  - `is_attacked_by` counts attacks on empty and occupied squares alike;
 *  - `is_pinned` is the absolute pin of a piece to its own king;
 *  - castling rights are the rights bookkeeping (python-chess `clean_castling_rights`), not
 *    "castling is legal now"; chessops' `castles.rook` holds exactly that for games from the start.
 * A ChessPosition is immutable: never mutate `pos`.
 */
import { Chess, pseudoDests, type Position } from 'chessops/chess';
import { attacks, between, bishopAttacks, kingAttacks, knightAttacks, pawnAttacks, queenAttacks, rookAttacks } from 'chessops/attacks';
import { parseFen, makeFen } from 'chessops/fen';
import { SquareSet } from 'chessops/squareSet';
import type { Color, NormalMove, Role, Square } from 'chessops/types';
import { kingCastlesTo, rookCastlesTo } from 'chessops/util';
import { UserInputError } from '../../errors.js';

export const PROMOTION_ROLES: readonly Role[] = ['queen', 'rook', 'bishop', 'knight'];

/** Legal moves in python-chess's enumeration (one per promotion piece). */
export interface LegalMoves {
  /** chessops moves (castling as king → rook square), ready for `Position.play`. */
  readonly moves: readonly NormalMove[];
  /** python-chess `to_square` of each move: castling lands on g1/c1 (g8/c8). */
  readonly pyTo: Int8Array;
  /** Union of `pyTo`. */
  readonly destinations: SquareSet;
}

/** Keys shared by all positions of one replayed game: python-chess's move stack, for repetition. */
class GameHistory {
  readonly positions: ChessPosition[] = [];
}

export class ChessPosition {
  private _legal?: LegalMoves;
  private _pseudoDestinations?: SquareSet;
  private _givesCheck?: boolean;
  private _mateInOne?: boolean;
  private _attackedByBlack?: SquareSet;
  private _pinnedWhite?: SquareSet;
  private _pinnedBlack?: SquareSet;
  private _key?: string;
  private _legalEp?: boolean;

  private constructor(
    /** The chessops position. Do not mutate. */
    readonly pos: Chess,
    /** Half-moves played since the start of the game (0 for the initial position or a FEN). */
    readonly ply: number,
    private readonly history: GameHistory,
    /** Index of this position in `history`. */
    private readonly index: number,
    /** First index of the positions python-chess would walk back over for threefold repetition. */
    private readonly windowStart: number,
  ) {}

  /** The standard initial position, the root of a game history. */
  static initial(): ChessPosition {
    const history = new GameHistory();
    const p = new ChessPosition(Chess.default(), 0, history, 0, 0);
    history.positions.push(p);
    return p;
  }

  /** A position from FEN with an empty move stack (as python-chess `Board(fen)`). */
  static fromFen(fen: string): ChessPosition {
    const setup = parseFen(fen);
    if (setup.isErr) throw new UserInputError(`invalid FEN ${JSON.stringify(fen)}: ${setup.error.message}`);
    const pos = Chess.fromSetup(setup.value);
    if (pos.isErr) throw new UserInputError(`illegal position in FEN ${JSON.stringify(fen)}: ${pos.error.message}`);
    const history = new GameHistory();
    const p = new ChessPosition(pos.value, 0, history, 0, 0);
    history.positions.push(p);
    return p;
  }

  /**
   * The position after `move` (a legal chessops move of this position). Positions of one line share
   * one history (python-chess's move stack); playing from a position that already has a successor
   * starts a new line with a private copy of the history.
   */
  play(move: NormalMove): ChessPosition {
    const next = this.pos.clone();
    next.play(move);
    // python-chess `is_irreversible` is evaluated in the position before the move; the walk-back
    // for threefold repetition stops there and does not count that position.
    const irreversible = isZeroing(this.pos, move) || reducesCastlingRights(this.pos, move) || this.hasLegalEnPassant();
    let history = this.history;
    let windowStart = this.windowStart;
    if (history.positions.length - 1 !== this.index) {
      // Branching off an earlier position: the child gets a private copy of this line's window.
      const own = new GameHistory();
      own.positions.push(...history.positions.slice(this.windowStart, this.index + 1));
      history = own;
      windowStart = 0;
    }
    const index = history.positions.length;
    const child = new ChessPosition(next, this.ply + 1, history, index, irreversible ? index : windowStart);
    history.positions.push(child);
    return child;
  }

  get turn(): Color {
    return this.pos.turn;
  }

  fen(): string {
    return makeFen(this.pos.toSetup());
  }

  /** python-chess `has_legal_en_passant()`. */
  hasLegalEnPassant(): boolean {
    if (this._legalEp === undefined) {
      const pos = this.pos;
      let found = false;
      if (pos.epSquare !== undefined) {
        const ctx = pos.ctx();
        const capturers = pos.board.pieces(pos.turn, 'pawn').intersect(pawnAttacks(opposite(pos.turn), pos.epSquare));
        for (const sq of capturers) {
          if (pos.dests(sq, ctx).has(pos.epSquare)) {
            found = true;
            break;
          }
        }
      }
      this._legalEp = found;
    }
    return this._legalEp;
  }

  /** Legal moves of the side to move, python-chess enumeration. */
  legalMoves(): LegalMoves {
    if (!this._legal) this._legal = computeLegalMoves(this.pos);
    return this._legal;
  }

  /** Destinations of python-chess `pseudo_legal_moves` of the side to move. */
  pseudoLegalDestinations(): SquareSet {
    if (!this._pseudoDestinations) {
      const pos = this.pos;
      const ctx = pos.ctx();
      let union = SquareSet.empty();
      for (const from of pos.board[pos.turn]) union = union.union(pyDestinations(pos, from, pseudoDests(pos, from, ctx)));
      this._pseudoDestinations = union;
    }
    return this._pseudoDestinations;
  }

  /** Squares attacked by Black (`is_attacked_by(BLACK, sq)` for every sq). */
  attackedByBlack(): SquareSet {
    if (!this._attackedByBlack) this._attackedByBlack = attackedBy(this.pos, 'black');
    return this._attackedByBlack;
  }

  /** Pieces of `color` absolutely pinned to their own king (`is_pinned(color, sq)`). */
  pinned(color: Color): SquareSet {
    if (color === 'white') return (this._pinnedWhite ??= pinnedPieces(this.pos, 'white'));
    return (this._pinnedBlack ??= pinnedPieces(this.pos, 'black'));
  }

  /** Some legal move gives check (python-chess `board_to_can_check_next`; stops at the first). */
  canGiveCheck(): boolean {
    if (this._givesCheck === undefined) {
      let found = false;
      for (const move of this.legalMoves().moves) {
        if (givesCheck(this.pos, move)) {
          found = true;
          break;
        }
      }
      this._givesCheck = found;
    }
    return this._givesCheck;
  }

  /** Some legal move mates (the mover's mate in one; `board_to_has_mate_threat`, see bsp.ts). */
  hasMateInOne(): boolean {
    if (this._mateInOne === undefined) {
      let found = false;
      if (this._givesCheck !== false) {
        for (const move of this.legalMoves().moves) {
          if (!givesCheck(this.pos, move)) continue;
          const after = this.pos.clone();
          after.play(move);
          if (after.isCheckmate()) {
            found = true;
            break;
          }
        }
      }
      this._mateInOne = found;
    }
    return this._mateInOne;
  }

  /** python-chess `_transposition_key()`: pieces, turn, castling rights, legal ep square. */
  repetitionKey(): string {
    if (this._key === undefined) this._key = repetitionKeyOf(this.pos, this.hasLegalEnPassant());
    return this._key;
  }

  /** python-chess `can_claim_draw()` = fifty-move claim or threefold-repetition claim. */
  canClaimDraw(): boolean {
    return this.canClaimFiftyMoves() || this.canClaimThreefoldRepetition();
  }

  canClaimFiftyMoves(): boolean {
    const pos = this.pos;
    const legal = this.legalMoves();
    if (pos.halfmoves >= 100 && legal.moves.length > 0) return true;
    if (pos.halfmoves >= 99) {
      for (const move of legal.moves) {
        if (isZeroing(pos, move)) continue;
        const after = pos.clone();
        after.play(move);
        if (after.halfmoves >= 100 && after.hasDests()) return true;
      }
    }
    return false;
  }

  canClaimThreefoldRepetition(): boolean {
    const history = this.history;
    if (this.index - this.windowStart < 2) return false; // needs two earlier occurrences
    const counts = new Map<string, number>();
    for (let i = this.windowStart; i < this.index; i++) {
      const k = history.positions[i].repetitionKey();
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const own = this.repetitionKey();
    if ((counts.get(own) ?? 0) + 1 >= 3) return true;
    // A next position can only reach a count of 2 through a key already seen twice.
    let twice = false;
    for (const n of counts.values()) if (n >= 2) twice = true;
    if (!twice) return false;
    for (const move of this.legalMoves().moves) {
      const after = this.pos.clone();
      after.play(move);
      const key = repetitionKeyOf(after, legalEpOf(after));
      // The current position is in python-chess's counter too, but a position one move later never
      // equals it (the side to move differs), so only the earlier ones can match.
      if ((counts.get(key) ?? 0) >= 2) return true;
    }
    return false;
  }
}

export function opposite(color: Color): Color {
  return color === 'white' ? 'black' : 'white';
}

function computeLegalMoves(pos: Position): LegalMoves {
  const ctx = pos.ctx();
  const moves: NormalMove[] = [];
  const pyTo: number[] = [];
  let destinations = SquareSet.empty();
  const own = pos.board[pos.turn];
  const pawns = pos.board.pawn;
  for (const from of own) {
    const dests = pos.dests(from, ctx);
    if (dests.isEmpty()) continue;
    const isPawn = pawns.has(from);
    for (const to of dests) {
      if (isPawn && (to < 8 || to >= 56)) {
        for (const promotion of PROMOTION_ROLES) {
          moves.push({ from, to, promotion });
          pyTo.push(to);
        }
        destinations = destinations.with(to);
      } else if (own.has(to)) {
        // chessops castling: king → own rook. python-chess (standard chess) says e1g1 / e1c1.
        const py = kingCastlesTo(pos.turn, to > from ? 'h' : 'a');
        moves.push({ from, to });
        pyTo.push(py);
        destinations = destinations.with(py);
      } else {
        moves.push({ from, to });
        pyTo.push(to);
        destinations = destinations.with(to);
      }
    }
  }
  return { moves, pyTo: Int8Array.from(pyTo), destinations };
}

/** Translate a chessops destination set of the piece on `from` to python-chess destinations. */
function pyDestinations(pos: Position, from: Square, dests: SquareSet): SquareSet {
  const ownTargets = dests.intersect(pos.board[pos.turn]);
  if (ownTargets.isEmpty()) return dests;
  let out = dests.diff(ownTargets);
  for (const rook of ownTargets) out = out.with(kingCastlesTo(pos.turn, rook > from ? 'h' : 'a'));
  return out;
}

/**
 * Whether a legal chessops move leaves the opponent in check, from bitboards alone (no clone):
 * the enemy king is attacked after the move by the moved piece (promoted, or the castling rook) or
 * by a slider the move uncovers, including through an en-passant-captured pawn's square. Tested
 * against clone-and-play on random positions.
 */
export function givesCheck(pos: Position, move: NormalMove): boolean {
  const board = pos.board;
  const us = pos.turn;
  const them = opposite(us);
  const king = board.kingOf(them);
  if (king === undefined) return false;
  const from = move.from;
  let to = move.to;
  let role = board.getRole(from)!;
  let occ = board.occupied.without(from);
  let rooks = board.rook.intersect(board[us]);
  if (role === 'king' && board[us].has(to)) {
    // Castling (chessops: king takes own rook): the king cannot check, the rook on d/f can.
    const side = to > from ? 'h' : 'a';
    const rookTo = rookCastlesTo(us, side);
    occ = occ.without(to).with(kingCastlesTo(us, side)).with(rookTo);
    rooks = rooks.without(to).with(rookTo);
    to = rookTo;
    role = 'rook';
  } else {
    if (role === 'pawn' && to === pos.epSquare) occ = occ.without(to + (us === 'white' ? -8 : 8));
    occ = occ.with(to);
    if (move.promotion) role = move.promotion;
    rooks = rooks.without(from);
  }
  const moved = SquareSet.fromSquare(to);
  const mine = board[us];
  const queens = board.queen.intersect(mine).without(from).union(role === 'queen' ? moved : SquareSet.empty());
  const bishops = board.bishop.intersect(mine).without(from).union(role === 'bishop' ? moved : SquareSet.empty());
  const knights = board.knight.intersect(mine).without(from).union(role === 'knight' ? moved : SquareSet.empty());
  const pawns = board.pawn.intersect(mine).without(from).union(role === 'pawn' ? moved : SquareSet.empty());
  if (role === 'rook') rooks = rooks.with(to);
  return rookAttacks(king, occ).intersects(rooks.union(queens))
    || bishopAttacks(king, occ).intersects(bishops.union(queens))
    || knightAttacks(king).intersects(knights)
    || pawnAttacks(them, king).intersects(pawns);
}

function attackedBy(pos: Position, color: Color): SquareSet {
  const board = pos.board;
  const occupied = board.occupied;
  const mine = board[color];
  let out = SquareSet.empty();
  for (const sq of mine.intersect(board.pawn)) out = out.union(pawnAttacks(color, sq));
  for (const sq of mine.intersect(board.knight)) out = out.union(knightAttacks(sq));
  for (const sq of mine.intersect(board.bishop)) out = out.union(bishopAttacks(sq, occupied));
  for (const sq of mine.intersect(board.rook)) out = out.union(rookAttacks(sq, occupied));
  for (const sq of mine.intersect(board.queen)) out = out.union(queenAttacks(sq, occupied));
  for (const sq of mine.intersect(board.king)) out = out.union(kingAttacks(sq));
  return out;
}

/** Squares attacked by the piece on `sq` (python-chess `Board.attacks(sq)`). */
export function pieceAttacks(pos: Position, sq: Square): SquareSet {
  const piece = pos.board.get(sq);
  if (!piece) return SquareSet.empty();
  return attacks(piece, sq, pos.board.occupied);
}

function pinnedPieces(pos: Position, color: Color): SquareSet {
  const board = pos.board;
  const king = board.kingOf(color);
  if (king === undefined) return SquareSet.empty();
  const snipers = rookAttacks(king, SquareSet.empty())
    .intersect(board.rooksAndQueens())
    .union(bishopAttacks(king, SquareSet.empty()).intersect(board.bishopsAndQueens()))
    .intersect(board[opposite(color)]);
  let pinned = SquareSet.empty();
  for (const sniper of snipers) {
    const blockers = between(king, sniper).intersect(board.occupied);
    const only = blockers.singleSquare();
    if (only !== undefined && board[color].has(only)) pinned = pinned.with(only);
  }
  return pinned;
}

/** python-chess `is_zeroing`: pawn move or capture (en passant is a pawn move). */
function isZeroing(pos: Position, move: NormalMove): boolean {
  const board = pos.board;
  if (board.pawn.has(move.from)) return true;
  return board[opposite(pos.turn)].has(move.to);
}

/** python-chess `_reduces_castling_rights`. chessops castling moves touch the rook square itself. */
function reducesCastlingRights(pos: Position, move: NormalMove): boolean {
  const rights = pos.castles.castlingRights;
  if (rights.has(move.from) || rights.has(move.to)) return true;
  if (pos.board.king.has(move.from)) {
    const color = pos.board.getColor(move.from)!;
    return rights.intersects(SquareSet.backrank(color));
  }
  return false;
}

function legalEpOf(pos: Position): boolean {
  if (pos.epSquare === undefined) return false;
  const ctx = pos.ctx();
  for (const sq of pos.board.pieces(pos.turn, 'pawn').intersect(pawnAttacks(opposite(pos.turn), pos.epSquare))) {
    if (pos.dests(sq, ctx).has(pos.epSquare)) return true;
  }
  return false;
}

function repetitionKeyOf(pos: Position, legalEp: boolean): string {
  const b = pos.board;
  const r = pos.castles.castlingRights;
  return [
    b.white.lo, b.white.hi, b.pawn.lo, b.pawn.hi, b.knight.lo, b.knight.hi, b.bishop.lo, b.bishop.hi,
    b.rook.lo, b.rook.hi, b.queen.lo, b.queen.hi, b.king.lo, b.king.hi, b.occupied.lo, b.occupied.hi,
    pos.turn === 'white' ? 1 : 0, r.lo, r.hi, legalEp ? pos.epSquare : -1,
  ].join(',');
}
