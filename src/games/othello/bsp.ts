/**
 * Othello board state properties (bsp.md §3), one `BspFamily` per function of the paper's code
 * (SAE_BoardGameEval circuits/othello_utils.py + the configs in chess_utils.py).
 *
 * Labels are taken at every position i = 0..58 on the board *after* move i (games.md §1.4), i.e.
 * on a board with `ply = i + 1`. Perspective is by parity, exactly as the code does it (bsp.md §1):
 * the board is multiplied by flip = +1 when i is even, -1 when i is odd, so
 *   flipped +1 = "mine"  = the player who just made move i (if no pass happened so far),
 *   flipped -1 = "yours" = the player about to make move i+1 (the one the model predicts for).
 * This is NOT pass-aware: after a pass the two are swapped for the rest of the game — faithful to
 * the code, which produced the published numbers. (The naming follows the code's own tests: "I just
 * placed a piece on r, c" → channel 2; one move later it "becomes your piece".)
 */
import { coverageDenominator, type BspCell, type BspFamily } from '../types.js';
import { DIRECTION_NAMES, RAYS, movesMask, squareName, type OthelloPosition } from './board.js';

export interface OthelloBspFamily extends BspFamily<OthelloPosition> {
  game: 'othello';
  /** Computed by the paper's pipeline config (not commented out there). */
  inPipeline: boolean;
  reported: boolean;
  description: string;
}

/** flip of the paper's code for a board with `ply` moves played (position i = ply - 1). */
export function parityFlip(ply: number): 1 | -1 {
  return (ply & 1) === 1 ? 1 : -1;
}

const mb = new Int8Array(64); // flipped mailbox scratch (+1 mine, -1 yours, 0 empty)
const mv = new Int32Array(2);

/** Fill the flipped mailbox for pos with the given flip. */
function fillMailbox(pos: OthelloPosition, flip: 1 | -1): Int8Array {
  const { blackLo, blackHi, whiteLo, whiteHi } = pos;
  for (let p = 0; p < 32; p++) {
    mb[p] = (((blackLo >>> p) & 1) - ((whiteLo >>> p) & 1)) * flip;
    mb[p + 32] = (((blackHi >>> p) & 1) - ((whiteHi >>> p) & 1)) * flip;
  }
  return mb;
}

interface FamilySpec {
  name: string;
  shortName: string;
  group: 'board_state' | 'other';
  classes: number;
  inPipeline: boolean;
  reported: boolean;
  description: string;
  /** Channels forced to 0 (still in the coverage denominator: these configs have no one_hot_mask_idx). */
  forcedZero?: number[];
  className(k: number): string;
  cellName(square: string, k: number): string;
  label(pos: OthelloPosition, out: Uint8Array, offset: number): void;
}

function makeFamily(spec: FamilySpec): OthelloBspFamily {
  const rows = 8;
  const cols = 8;
  const cells = rows * cols * spec.classes;
  let described: BspCell[] | null = null;
  return {
    game: 'othello',
    name: spec.name,
    shortName: spec.shortName,
    group: spec.group,
    rows,
    cols,
    classes: spec.classes,
    maskIndex: null,
    cells,
    coverageDenominator: coverageDenominator(rows, cols, spec.classes, null),
    inPipeline: spec.inPipeline,
    reported: spec.reported,
    description: spec.description,
    label: spec.label,
    describe() {
      if (!described) {
        described = [];
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < cols; c++) {
            const square = squareName(r * 8 + c);
            for (let k = 0; k < spec.classes; k++) {
              described.push({
                cell: (r * cols + c) * spec.classes + k,
                row: r,
                col: c,
                classIndex: k,
                square,
                className: spec.className(k),
                name: spec.cellName(square, k),
                masked: spec.forcedZero?.includes(k) ?? false,
              });
            }
          }
        }
      }
      return described.map((d) => ({ ...d }));
    },
  };
}

const MINE_YOURS_CLASSES = ['yours', 'empty', 'mine'];

/** Channels (yours, empty, mine) from the flipped board; `withEmpty` false zeroes channel 1. */
function labelMineYours(pos: OthelloPosition, out: Uint8Array, offset: number, withEmpty: boolean): void {
  const flip = parityFlip(pos.ply);
  const mineLo = flip === 1 ? pos.blackLo : pos.whiteLo;
  const mineHi = flip === 1 ? pos.blackHi : pos.whiteHi;
  const yoursLo = flip === 1 ? pos.whiteLo : pos.blackLo;
  const yoursHi = flip === 1 ? pos.whiteHi : pos.blackHi;
  const e = withEmpty ? 1 : 0;
  for (let p = 0, o = offset; p < 32; p++, o += 3) {
    const m = (mineLo >>> p) & 1;
    const y = (yoursLo >>> p) & 1;
    out[o] = y;
    out[o + 1] = e & (1 ^ (m | y));
    out[o + 2] = m;
  }
  for (let p = 0, o = offset + 96; p < 32; p++, o += 3) {
    const m = (mineHi >>> p) & 1;
    const y = (yoursHi >>> p) & 1;
    out[o] = y;
    out[o + 1] = e & (1 ^ (m | y));
    out[o + 2] = m;
  }
}

/** G_boardstate (bsp.md §3.1): the paper's reported Othello BSP set. */
export const boardStateFamily = makeFamily({
  name: 'games_batch_to_state_stack_mine_yours_blank_mask_BLRRC',
  shortName: 'board_state',
  group: 'board_state',
  classes: 3,
  inPipeline: true,
  reported: true,
  forcedZero: [1],
  description:
    'Disc on each square relative to the players (mine = the player who just moved, yours = the player to move next, by move parity). ' +
    'The empty channel is forced to 0 but stays in the coverage denominator (192, CODE≠PAPER).',
  className: (k) => MINE_YOURS_CLASSES[k],
  cellName: (sq, k) => (k === 1 ? `${sq} is empty (masked)` : `${sq} is ${MINE_YOURS_CLASSES[k]}`),
  label: (pos, out, offset) => labelMineYours(pos, out, offset, false),
});

export const mineYoursFamily = makeFamily({
  name: 'games_batch_to_state_stack_mine_yours_BLRRC',
  shortName: 'mine_yours',
  group: 'other',
  classes: 3,
  inPipeline: true,
  reported: false,
  description: 'Like board_state, with the empty channel kept (192 BSPs).',
  className: (k) => MINE_YOURS_CLASSES[k],
  cellName: (sq, k) => `${sq} is ${MINE_YOURS_CLASSES[k]}`,
  label: (pos, out, offset) => labelMineYours(pos, out, offset, true),
});

const ABSOLUTE_CLASSES = ['white', 'empty', 'black'];

export const absoluteBoardFamily = makeFamily({
  name: 'games_batch_to_state_stack_BLRRC',
  shortName: 'absolute_board',
  group: 'other',
  classes: 3,
  inPipeline: false,
  reported: false,
  description: 'Absolute colours (white, empty, black) on each square; defined in the paper\'s code but unused.',
  className: (k) => ABSOLUTE_CLASSES[k],
  cellName: (sq, k) => `${sq} is ${ABSOLUTE_CLASSES[k]}`,
  label(pos, out, offset) {
    const { blackLo, blackHi, whiteLo, whiteHi } = pos;
    for (let p = 0, o = offset; p < 32; p++, o += 3) {
      const b = (blackLo >>> p) & 1;
      const w = (whiteLo >>> p) & 1;
      out[o] = w;
      out[o + 1] = 1 ^ (b | w);
      out[o + 2] = b;
    }
    for (let p = 0, o = offset + 96; p < 32; p++, o += 3) {
      const b = (blackHi >>> p) & 1;
      const w = (whiteHi >>> p) & 1;
      out[o] = w;
      out[o + 1] = 1 ^ (b | w);
      out[o + 2] = b;
    }
  },
});

export const validMovesFamily = makeFamily({
  name: 'games_batch_to_valid_moves_BLRRC',
  shortName: 'valid_moves',
  group: 'other',
  classes: 1,
  inPipeline: true,
  reported: false,
  description: "Squares in get_valid_moves() after the move: the next player's legal squares, or the opponent's if the next player must pass.",
  className: () => 'valid',
  cellName: (sq) => `${sq} is a valid move`,
  label(pos, out, offset) {
    if (pos.nextColor === 1) movesMask(pos.blackLo, pos.blackHi, pos.whiteLo, pos.whiteHi, mv);
    else movesMask(pos.whiteLo, pos.whiteHi, pos.blackLo, pos.blackHi, mv);
    if ((mv[0] | mv[1]) === 0) {
      if (pos.nextColor === 1) movesMask(pos.whiteLo, pos.whiteHi, pos.blackLo, pos.blackHi, mv);
      else movesMask(pos.blackLo, pos.blackHi, pos.whiteLo, pos.whiteHi, mv);
    }
    const lo = mv[0];
    const hi = mv[1];
    for (let p = 0; p < 32; p++) {
      out[offset + p] = (lo >>> p) & 1;
      out[offset + 32 + p] = (hi >>> p) & 1;
    }
  },
});

const MAX_LINE_LENGTH = 6;

/**
 * `board_state_to_lines_RRC` / `board_state_to_length_lines_RRC`: for every empty square and
 * direction d, walk over flipped-+1 discs; if at least one was passed and the walk stops on a
 * flipped -1 disc, the line counts. `withLength` one-hot encodes the run length (1..6) as
 * channel (len-1)*8 + d; otherwise the channel is d.
 */
function labelLines(pos: OthelloPosition, out: Uint8Array, offset: number, flip: 1 | -1, withLength: boolean): void {
  const board = fillMailbox(pos, flip);
  const classes = withLength ? 8 * MAX_LINE_LENGTH : 8;
  out.fill(0, offset, offset + 64 * classes);
  for (let p = 0; p < 64; p++) {
    if (board[p] !== 0) continue;
    const cellBase = offset + p * classes;
    for (let d = 0; d < 8; d++) {
      const rayBase = (p * 8 + d) * 8;
      let len = 0;
      let q = RAYS[rayBase];
      while (q >= 0 && board[q] === 1) q = RAYS[rayBase + ++len];
      if (len > 0 && q >= 0 && board[q] === -1) {
        out[cellBase + (withLength ? (Math.min(len, MAX_LINE_LENGTH) - 1) * 8 + d : d)] = 1;
      }
    }
  }
}

function directionName(k: number): string {
  return DIRECTION_NAMES[k % 8];
}

export const linesMineFamily = makeFamily({
  name: 'games_batch_to_state_stack_lines_mine_BLRCC',
  shortName: 'lines_mine',
  group: 'other',
  classes: 8,
  inPipeline: false,
  reported: false,
  description:
    'For each empty square and direction (N, NE, E, SE, S, SW, W, NW; N = towards row a): a run of ≥1 "mine" discs capped by a "yours" disc, ' +
    'i.e. the player to move next could flip that line by playing there. Commented out in the paper\'s config.',
  className: (k) => directionName(k),
  cellName: (sq, k) => `${sq} ${directionName(k)}: mine line capped by yours`,
  label: (pos, out, offset) => labelLines(pos, out, offset, parityFlip(pos.ply), false),
});

export const linesYoursFamily = makeFamily({
  name: 'games_batch_to_state_stack_lines_yours_BLRCC',
  shortName: 'lines_yours',
  group: 'other',
  classes: 8,
  inPipeline: false,
  reported: false,
  description:
    'lines_mine with the opposite parity flip: a run of ≥1 "yours" discs capped by a "mine" disc (lines the player who just moved could flip). ' +
    'Commented out in the paper\'s config.',
  className: (k) => directionName(k),
  cellName: (sq, k) => `${sq} ${directionName(k)}: yours line capped by mine`,
  label: (pos, out, offset) => labelLines(pos, out, offset, (-parityFlip(pos.ply)) as 1 | -1, false),
});

export const lengthLinesFamily = makeFamily({
  name: 'games_batch_to_state_stack_length_lines_mine_BLRCC',
  shortName: 'length_lines',
  group: 'other',
  classes: 8 * MAX_LINE_LENGTH,
  inPipeline: false,
  reported: false,
  description:
    'lines_mine split by run length: channel (len-1)*8 + direction for a capped run of len = 1..6 "mine" discs. Commented out in the paper\'s config.',
  className: (k) => `${directionName(k)} len ${Math.floor(k / 8) + 1}`,
  cellName: (sq, k) => `${sq} ${directionName(k)}: line of ${Math.floor(k / 8) + 1} mine capped by yours`,
  label: (pos, out, offset) => labelLines(pos, out, offset, parityFlip(pos.ply), true),
});

/**
 * `board_state_to_opponent_length_lines_RRC`: for every empty square and direction, the length of
 * the run of "mine" discs next to it, capped or not. Code quirk kept on purpose: the channel is
 * (min(len, 6) - 1) * 8 + d, and for len = 0 that index is negative, which PyTorch wraps to
 * 40 + d. So channel group 5 means "run of 6 or 7, or no run at all", and every empty square has
 * exactly one channel set per direction.
 */
export const opponentLengthLinesFamily = makeFamily({
  name: 'games_batch_to_state_stack_opponent_length_lines_mine_BLRCC',
  shortName: 'opponent_length_lines',
  group: 'other',
  classes: 8 * MAX_LINE_LENGTH,
  inPipeline: false,
  reported: false,
  description:
    'Uncapped run length of "mine" discs next to each empty square, per direction (channel (min(len,6)-1)*8 + dir); ' +
    'len 0 wraps to the len-6 channel, as PyTorch negative indexing does in the paper\'s code. Commented out in the paper\'s config.',
  className: (k) => (k >= 40 ? `${directionName(k)} len 0 or 6+` : `${directionName(k)} len ${Math.floor(k / 8) + 1}`),
  cellName: (sq, k) =>
    k >= 40
      ? `${sq} ${directionName(k)}: no mine run, or a run of 6+ (code quirk)`
      : `${sq} ${directionName(k)}: run of ${Math.floor(k / 8) + 1} mine`,
  label(pos, out, offset) {
    const board = fillMailbox(pos, parityFlip(pos.ply));
    out.fill(0, offset, offset + 64 * 48);
    for (let p = 0; p < 64; p++) {
      if (board[p] !== 0) continue;
      const cellBase = offset + p * 48;
      for (let d = 0; d < 8; d++) {
        const rayBase = (p * 8 + d) * 8;
        let len = 0;
        let q = RAYS[rayBase];
        while (q >= 0 && board[q] === 1) q = RAYS[rayBase + ++len];
        const group = len === 0 ? MAX_LINE_LENGTH - 1 : Math.min(len, MAX_LINE_LENGTH) - 1;
        out[cellBase + group * 8 + d] = 1;
      }
    }
  },
});

/** Every Othello family, reported first, then the pipeline ones, then the unused ones. */
export const othelloBspFamilies: readonly OthelloBspFamily[] = [
  boardStateFamily,
  mineYoursFamily,
  validMovesFamily,
  linesMineFamily,
  lengthLinesFamily,
  opponentLengthLinesFamily,
  linesYoursFamily,
  absoluteBoardFamily,
];
