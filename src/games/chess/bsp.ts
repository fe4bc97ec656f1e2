/**
 * Every chess BSP family of the paper's pipeline (bsp.md §2), named by the code function, each a
 * pure labeller over a ChessPosition writing (rows × cols × classes) 0/1 cells.
 *
 * Conventions (bsp.md): square s → row = s >> 3 (rank − 1), col = s & 7 (file a = 0); cell index
 * = (row·cols + col)·classes + class; a {0,1} property is a single channel holding the value; a
 * masked class channel (one_hot_mask_idx) is always 0 but counts in the coverage denominator.
 * Colours are absolute as in the code: at dots White is the mover, so White = "mine".
 */
import { SquareSet } from 'chessops/squareSet';
import { between } from 'chessops/attacks';
import type { Color, Role, Square } from 'chessops/types';
import { makeSquare } from 'chessops/util';
import { UserInputError } from '../../errors.js';
import { coverageDenominator, labelMany, type BspCell, type BspFamily } from '../types.js';
import { ChessPosition, opposite, pieceAttacks } from './position.js';
import { analyzeTranscript } from './transcript.js';

type Group = BspFamily<ChessPosition>['group'];

interface FamilySpec {
  name: string;
  shortName: string;
  group: Group;
  rows: number;
  cols: number;
  classes: number;
  maskIndex: number | null;
  /** Write the non-zero cells; the range is zeroed before. */
  set(p: ChessPosition, out: Uint8Array, offset: number): void;
  /** Class names (index = class) and the property name of a cell. */
  classNames: readonly string[];
  cellName(square: string | null, classIndex: number): string;
}

function makeFamily(spec: FamilySpec): BspFamily<ChessPosition> {
  const cells = spec.rows * spec.cols * spec.classes;
  let described: BspCell[] | null = null;
  return {
    game: 'chess',
    name: spec.name,
    shortName: spec.shortName,
    group: spec.group,
    rows: spec.rows,
    cols: spec.cols,
    classes: spec.classes,
    maskIndex: spec.maskIndex,
    cells,
    coverageDenominator: coverageDenominator(spec.rows, spec.cols, spec.classes, spec.maskIndex),
    label(p, out, offset) {
      out.fill(0, offset, offset + cells);
      spec.set(p, out, offset);
    },
    describe() {
      if (!described) {
        described = [];
        for (let row = 0; row < spec.rows; row++) {
          for (let col = 0; col < spec.cols; col++) {
            const square = spec.rows === 1 && spec.cols === 1 ? null : makeSquare(row * 8 + col);
            for (let k = 0; k < spec.classes; k++) {
              described.push({
                cell: (row * spec.cols + col) * spec.classes + k,
                row,
                col,
                classIndex: k,
                square,
                className: spec.classNames[k],
                name: spec.cellName(square, k),
                masked: spec.maskIndex === k,
              });
            }
          }
        }
      }
      return described.map((c) => ({ ...c }));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Piece one-hot helpers (bsp.md §2): value pawn 1 … king 6, Black negative, class = value + 6.

const ROLE_VALUE: Record<Role, number> = { pawn: 1, knight: 2, bishop: 3, rook: 4, queen: 5, king: 6 };
const ROLES: readonly Role[] = ['pawn', 'knight', 'bishop', 'rook', 'queen', 'king'];
export const PIECE_CLASS_NAMES: readonly string[] = [
  'black king', 'black queen', 'black rook', 'black bishop', 'black knight', 'black pawn', 'empty',
  'white pawn', 'white knight', 'white bishop', 'white rook', 'white queen', 'white king',
];
export const EMPTY_CLASS = 6;

/** Class index (0..12) of every square, written into `out` (length 64). */
export function pieceClasses(p: ChessPosition, out = new Uint8Array(64)): Uint8Array {
  out.fill(EMPTY_CLASS);
  const b = p.pos.board;
  for (const role of ROLES) {
    const v = ROLE_VALUE[role];
    for (const sq of b[role].intersect(b.white)) out[sq] = EMPTY_CLASS + v;
    for (const sq of b[role].intersect(b.black)) out[sq] = EMPTY_CLASS - v;
  }
  return out;
}

const INITIAL_CLASSES = pieceClasses(ChessPosition.initial());
const scratchClasses = new Uint8Array(64);

const pieceCellName = (square: string | null, k: number) =>
  k === EMPTY_CLASS ? `${square} is empty` : `${PIECE_CLASS_NAMES[k]} on ${square}`;

// ---------------------------------------------------------------------------------------------
// 1×1 families

function binary(name: string, shortName: string, group: Group, property: string, test: (p: ChessPosition) => boolean): BspFamily<ChessPosition> {
  return makeFamily({
    name, shortName, group, rows: 1, cols: 1, classes: 1, maskIndex: null,
    set(p, out, offset) {
      if (test(p)) out[offset] = 1;
    },
    classNames: ['true'],
    cellName: () => property,
  });
}

function squares64(name: string, shortName: string, group: Group, describe: (square: string) => string, set: (p: ChessPosition) => SquareSet): BspFamily<ChessPosition> {
  return makeFamily({
    name, shortName, group, rows: 8, cols: 8, classes: 1, maskIndex: null,
    set(p, out, offset) {
      for (const sq of set(p)) out[offset + sq] = 1;
    },
    classNames: ['true'],
    cellName: (square) => describe(square!),
  });
}

function countOf(p: ChessPosition, color: Color, role: Role): number {
  return p.pos.board.pieces(color, role).size();
}

/** python-chess `has_kingside/queenside_castling_rights(color)` for games from the start. */
function hasCastlingRight(p: ChessPosition, color: Color, side: 'a' | 'h'): boolean {
  return p.pos.castles.rook[color][side] !== undefined;
}

/**
 * `board_to_specific_fork`: sum over the mover's non-pinned pieces of `attacker` of the opponent
 * pieces of any type in `targets` inside that piece's attack set; fires at ≥ 2 (bsp.md §2.2).
 */
export function specificFork(p: ChessPosition, attacker: Role, targets: readonly Role[]): boolean {
  const pos = p.pos;
  const color = pos.turn;
  const board = pos.board;
  let targetSet = SquareSet.empty();
  for (const t of targets) targetSet = targetSet.union(board.pieces(opposite(color), t));
  if (targetSet.isEmpty()) return false;
  const pinned = p.pinned(color);
  let total = 0;
  for (const sq of board.pieces(color, attacker)) {
    if (pinned.has(sq)) continue;
    total += pieceAttacks(pos, sq).intersect(targetSet).size();
    if (total >= 2) return true;
  }
  return false;
}

/** The attacker → target-type table of `board_to_any_fork`. Each pair is tested on its own. */
export const FORK_TABLE: ReadonlyArray<readonly [Role, readonly Role[]]> = [
  ['pawn', ['knight', 'bishop', 'rook', 'queen', 'king']],
  ['knight', ['rook', 'queen', 'king']],
  ['bishop', ['rook', 'queen', 'king']],
  ['rook', ['queen', 'king']],
];

/**
 * `board_to_any_fork` with perspective "mine" — the fork quirk, faithful to the code (CODE≠PAPER):
 * one (attacker type, single target type) pair must reach ≥ 2 targets summed over all non-pinned
 * attackers of that type. A knight hitting a rook and a queen does not count; two knights each
 * hitting one rook do.
 */
export function anyFork(p: ChessPosition): boolean {
  for (const [attacker, targets] of FORK_TABLE) {
    for (const t of targets) if (specificFork(p, attacker, [t])) return true;
  }
  return false;
}

function connectedRooks(p: ChessPosition): boolean {
  const board = p.pos.board;
  const rooks = [...board.pieces(p.pos.turn, 'rook')];
  for (let i = 0; i < rooks.length; i++) {
    for (let j = i + 1; j < rooks.length; j++) {
      const a = rooks[i];
      const b = rooks[j];
      const aligned = (a & 7) === (b & 7) || a >> 3 === b >> 3;
      if (aligned && between(a, b).intersect(board.occupied).isEmpty()) return true;
    }
  }
  return false;
}

function ambiguousMoves(p: ChessPosition): boolean {
  // Group legal moves by (piece type, destination); ≥ 2 distinct origins in a group → 1. Any two
  // distinct squares differ in file or rank, so "distinct origins" is the code's condition.
  // Promotions from one square repeat one origin and never count.
  const pos = p.pos;
  const { moves, pyTo } = p.legalMoves();
  const seen = new Map<number, Square>();
  for (let i = 0; i < moves.length; i++) {
    const role = pos.board.getRole(moves[i].from)!;
    const key = ROLE_VALUE[role] * 64 + pyTo[i];
    const prev = seen.get(key);
    if (prev === undefined) seen.set(key, moves[i].from);
    else if (prev !== moves[i].from) return true;
  }
  return false;
}

function canCaptureQueen(p: ChessPosition): boolean {
  // python-chess piece_map() scans squares from h8 (63) down to a1 (0): the first opponent queen
  // found is the one on the highest square, and only that one is checked.
  const queen = p.pos.board.pieces(opposite(p.pos.turn), 'queen').last();
  if (queen === undefined) return false;
  return p.legalMoves().destinations.has(queen);
}

// ---------------------------------------------------------------------------------------------
// The families

/** G_boardstate (bsp.md §2.1): pieces not on their initial squares, empty channel masked. */
export const boardStateFamily = makeFamily({
  name: 'board_to_piece_masked_blank_and_initial_state',
  shortName: 'board_state',
  group: 'board_state',
  rows: 8, cols: 8, classes: 13, maskIndex: EMPTY_CLASS,
  set(p, out, offset) {
    const cls = pieceClasses(p, scratchClasses);
    for (let sq = 0; sq < 64; sq++) {
      const k = cls[sq];
      // A piece equal to the initial set-up on its square counts as empty, whatever its history.
      if (k !== EMPTY_CLASS && k !== INITIAL_CLASSES[sq]) out[offset + sq * 13 + k] = 1;
    }
  },
  classNames: PIECE_CLASS_NAMES,
  cellName: pieceCellName,
});

/** G_strategy (bsp.md §2.2): the 14 concepts in the order of the paper's Tables 4 and 5. */
export const strategyFamilies: readonly BspFamily<ChessPosition>[] = [
  binary('board_to_check_state', 'check', 'strategy', 'mover is in check', (p) => p.pos.isCheck()),
  binary('board_to_can_check_next', 'can_check', 'strategy', 'mover can give check', (p) => p.canGiveCheck()),
  binary('board_to_can_capture_queen', 'can_capture_queen', 'strategy', "mover can capture the opponent's queen", canCaptureQueen),
  binary('board_to_has_queen', 'queen', 'strategy', 'mover has a queen', (p) => countOf(p, p.pos.turn, 'queen') >= 1),
  binary('board_to_has_bishop_pair', 'bishop_pair', 'strategy', 'mover has two or more bishops', (p) => countOf(p, p.pos.turn, 'bishop') >= 2),
  binary('board_to_has_castling_rights', 'castling_rights', 'strategy', 'mover has castling rights',
    (p) => hasCastlingRight(p, p.pos.turn, 'h') || hasCastlingRight(p, p.pos.turn, 'a')),
  binary('board_to_has_kingside_castling_rights', 'kingside_castling_rights', 'strategy', 'mover has kingside castling rights',
    (p) => hasCastlingRight(p, p.pos.turn, 'h')),
  binary('board_to_has_queenside_castling_rights', 'queenside_castling_rights', 'strategy', 'mover has queenside castling rights',
    (p) => hasCastlingRight(p, p.pos.turn, 'a')),
  binary('board_to_any_fork', 'fork', 'strategy', 'mover has a fork (same-type targets, code quirk)', anyFork),
  binary('board_to_pin_state', 'pin', 'strategy', 'a piece of either colour is pinned to its king',
    (p) => p.pinned('white').nonEmpty() || p.pinned('black').nonEmpty()),
  binary('board_to_has_legal_en_passant', 'legal_en_passant', 'strategy', 'mover can capture en passant', (p) => p.hasLegalEnPassant()),
  binary('board_to_ambiguous_moves', 'ambiguous_moves', 'strategy', 'mover has a move that needs disambiguation', ambiguousMoves),
  squares64('board_to_threat_state', 'threatened_squares', 'strategy', (sq) => `${sq} attacked by black`, (p) => p.attackedByBlack()),
  // Hard-coded WHITE in the code: at a Black-to-move position nothing is marked.
  squares64('board_to_legal_moves_state', 'legal_moves', 'strategy', (sq) => `white can move to ${sq}`,
    (p) => (p.pos.turn === 'white' ? p.legalMoves().destinations : SquareSet.empty())),
];

/** Pipeline functions not reported in the paper (bsp.md §2.3). */
export const otherFamilies: readonly BspFamily<ChessPosition>[] = [
  makeFamily({
    name: 'board_to_piece_state', shortName: 'piece', group: 'other',
    rows: 8, cols: 8, classes: 13, maskIndex: null,
    set(p, out, offset) {
      const cls = pieceClasses(p, scratchClasses);
      for (let sq = 0; sq < 64; sq++) out[offset + sq * 13 + cls[sq]] = 1;
    },
    classNames: PIECE_CLASS_NAMES,
    cellName: pieceCellName,
  }),
  makeFamily({
    name: 'board_to_piece_masked_blank_state', shortName: 'piece_masked_blank', group: 'other',
    rows: 8, cols: 8, classes: 13, maskIndex: EMPTY_CLASS,
    set(p, out, offset) {
      const cls = pieceClasses(p, scratchClasses);
      for (let sq = 0; sq < 64; sq++) if (cls[sq] !== EMPTY_CLASS) out[offset + sq * 13 + cls[sq]] = 1;
    },
    classNames: PIECE_CLASS_NAMES,
    cellName: pieceCellName,
  }),
  makeFamily({
    name: 'board_to_piece_color_state', shortName: 'piece_color', group: 'other',
    rows: 8, cols: 8, classes: 3, maskIndex: null,
    set(p, out, offset) {
      const b = p.pos.board;
      for (let sq = 0; sq < 64; sq++) out[offset + sq * 3 + (b.white.has(sq) ? 2 : b.black.has(sq) ? 0 : 1)] = 1;
    },
    classNames: ['black', 'empty', 'white'],
    cellName: (sq, k) => (k === 1 ? `${sq} is empty` : `${k === 2 ? 'white' : 'black'} piece on ${sq}`),
  }),
  binary('board_to_specific_fork', 'specific_fork', 'other', 'a non-pinned knight of the mover attacks ≥ 2 rooks/queens/kings in total',
    (p) => specificFork(p, 'knight', ['rook', 'queen', 'king'])),
  squares64('board_to_pseudo_legal_moves_state', 'pseudo_legal_moves', 'other', (sq) => `mover can pseudo-legally move to ${sq}`,
    (p) => p.pseudoLegalDestinations()),
  binary('board_to_can_claim_draw', 'can_claim_draw', 'other', 'mover can claim a draw (fifty moves or threefold repetition)', (p) => p.canClaimDraw()),
  // The code mirrors the board (colours and turn) and then looks for a mate in 1 of the side to
  // move: that is the mover's own mate in 1, whatever its docstring says (bsp.md §2.3).
  binary('board_to_has_mate_threat', 'mate_threat', 'other', 'mover has a mate in one', (p) => p.hasMateInOne()),
  binary('board_to_has_connected_rooks', 'connected_rooks', 'other', 'mover has connected rooks', connectedRooks),
];

/** All chess families: board state, the 14 strategy concepts, then the other pipeline functions. */
export const chessBspFamilies: readonly BspFamily<ChessPosition>[] = [boardStateFamily, ...strategyFamilies, ...otherFamilies];

/** Look a family up by code name or short name; throws a UserInputError listing the known ones. */
export function chessFamily(name: string): BspFamily<ChessPosition> {
  const f = chessBspFamilies.find((x) => x.name === name || x.shortName === name);
  if (!f) {
    throw new UserInputError(`unknown chess BSP family ${JSON.stringify(name)}; known: ${chessBspFamilies.map((x) => x.shortName).join(', ')}`);
  }
  return f;
}

export interface FamilyLabels {
  family: BspFamily<ChessPosition>;
  /** (positions × family.cells) row-major 0/1. */
  labels: Uint8Array;
}

/**
 * Label many positions with many families. Families share each position's memoised analyses
 * (legal moves, attacks, pins), so labelling all of them costs little more than the dearest one.
 */
export function labelChessPositions(positions: readonly ChessPosition[], families: readonly BspFamily<ChessPosition>[] = chessBspFamilies): FamilyLabels[] {
  return families.map((family) => ({ family, labels: labelMany(family, positions) }));
}

export interface DotLabels {
  /** Number of labelled positions = games × dots. */
  positions: number;
  /** For each position, the game it came from and the character index of its dot. */
  gameIndex: Uint32Array;
  charIndex: Uint16Array;
  labels: FamilyLabels[];
}

/**
 * The evaluation's labelling in one call (games.md §2.3–2.5): cut each transcript to `maxChars`
 * (256), replay it, take the boards at its first `maxDots` (20) dots, and label them with
 * `families`. Positions are in game order, dots in string order.
 */
export function labelChessDots(
  transcripts: readonly string[],
  opts: { families?: readonly BspFamily<ChessPosition>[]; maxChars?: number; maxDots?: number } = {},
): DotLabels {
  const maxChars = opts.maxChars ?? 256;
  const maxDots = opts.maxDots ?? 20;
  const positions: ChessPosition[] = [];
  const gameIndex: number[] = [];
  const charIndex: number[] = [];
  transcripts.forEach((full, g) => {
    const a = analyzeTranscript(full.slice(0, maxChars), { maxDots, where: `transcript ${g}` });
    for (const j of a.dotIndices) {
      positions.push(a.states[a.charState[j]]);
      gameIndex.push(g);
      charIndex.push(j);
    }
  });
  return {
    positions: positions.length,
    gameIndex: Uint32Array.from(gameIndex),
    charIndex: Uint16Array.from(charIndex),
    labels: labelChessPositions(positions, opts.families ?? chessBspFamilies),
  };
}
