/**
 * Shared vocabulary of the games layer. A BSP *family* is one of the paper's "custom functions":
 * for every position it yields a (rows × cols × classes) 0/1 tensor, each cell of which is one
 * binary board state property (bsp.md). Families are pure: no I/O, no database, no tensors library.
 */
export type GameName = 'othello' | 'chess';

export const GAMES: readonly GameName[] = ['othello', 'chess'] as const;

export interface BspCell {
  /** Flat index inside the family's tensor: ((row * cols) + col) * classes + classIndex. */
  cell: number;
  row: number;
  col: number;
  classIndex: number;
  /** Square name in the game's own notation ("f3" for chess, "d5" for Othello), null for 1×1 families. */
  square: string | null;
  /** Class name ("white knight", "mine", "empty", "true"...). */
  className: string;
  /** Human-readable property, e.g. "white knight on f3", "d4 is mine", "mover is in check". */
  name: string;
  /** Masked channel: forced to 0, never true, but counted in the coverage denominator (metrics.md §4). */
  masked: boolean;
}

export interface BspFamily<P> {
  game: GameName;
  /** The paper's code function name, e.g. "board_to_piece_masked_blank_and_initial_state". */
  name: string;
  /** Short name used in the paper's tables / CLI, e.g. "board_state", "check", "threatened_squares". */
  shortName: string;
  /** Which group it belongs to: "board_state" | "strategy" | "other" (bsp.md §4). */
  group: 'board_state' | 'strategy' | 'other';
  rows: number;
  cols: number;
  classes: number;
  /** one_hot_mask_idx of the paper's config, if any: excluded from the coverage denominator. */
  maskIndex: number | null;
  /** rows * cols * classes */
  cells: number;
  /** Coverage denominator: rows*cols*(classes-1) with a mask index, else rows*cols*classes. */
  coverageDenominator: number;
  /** Write this position's 0/1 labels into out[offset .. offset+cells). */
  label(position: P, out: Uint8Array, offset: number): void;
  /** Describe every cell (for the BSP catalogue). */
  describe(): BspCell[];
  /** True for the families behind the paper's reported numbers (bsp.md §4). Optional: absent = false. */
  reported?: boolean;
  /** One or two sentences on what the family measures (for catalogues, --help and the UI). */
  description?: string;
}

export function coverageDenominator(rows: number, cols: number, classes: number, maskIndex: number | null): number {
  return rows * cols * (maskIndex === null ? classes : classes - 1);
}

/** Label many positions: a (positions × cells) row-major 0/1 matrix. */
export function labelMany<P>(family: BspFamily<P>, positions: readonly P[], out = new Uint8Array(positions.length * family.cells)): Uint8Array {
  for (let i = 0; i < positions.length; i++) family.label(positions[i], out, i * family.cells);
  return out;
}

/** Pack a 0/1 byte matrix into bits (little-endian within each byte), numpy.packbits(bitorder='little') compatible. */
export function packBits(bits: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bits.length / 8));
  for (let i = 0; i < bits.length; i++) if (bits[i]) out[i >> 3] |= 1 << (i & 7);
  return out;
}

export function unpackBits(packed: Uint8Array, n: number, out = new Uint8Array(n)): Uint8Array {
  for (let i = 0; i < n; i++) out[i] = (packed[i >> 3] >> (i & 7)) & 1;
  return out;
}
