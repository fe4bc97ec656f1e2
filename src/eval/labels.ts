/**
 * Ground-truth labels of a set of positions for several BSP families at once.
 *
 * Families are concatenated into one global cell index space (family k owns cells
 * [offset_k, offset_k + cells_k)), and each position keeps only the list of its *true* cells: BSP
 * tensors are sparse (a chess board has ~11 true cells of 768 in the masked board-state family),
 * so counting walks these lists instead of dense rows.
 */
import { UserInputError } from '../errors.js';
import type { BspFamily } from '../games/types.js';

/** The metadata of a BSP family that evaluation needs (a `BspFamily` without its label function). */
export type EvalFamily = Pick<
  BspFamily<unknown>,
  'game' | 'name' | 'shortName' | 'group' | 'rows' | 'cols' | 'classes' | 'maskIndex' | 'cells' | 'coverageDenominator'
>;

export interface LabelSet {
  families: readonly EvalFamily[];
  /** First global cell of each family; offsets[families.length] = totalCells. */
  offsets: Int32Array;
  totalCells: number;
  positions: number;
  /** True cells of position p: cells[ptr[p] .. ptr[p+1]) (global indices, ascending). */
  ptr: Int32Array;
  cells: Int32Array;
  /** Number of positions where each global cell is true ("all" of metrics.md §3). */
  truthCount: Int32Array;
}

export function familyOfCell(labels: LabelSet, cell: number): number {
  const { offsets } = labels;
  let lo = 0;
  let hi = labels.families.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid] <= cell) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export function checkFamily(f: EvalFamily): void {
  if (f.cells !== f.rows * f.cols * f.classes) {
    throw new UserInputError(`BSP family ${f.name}: cells=${f.cells} but rows·cols·classes=${f.rows * f.cols * f.classes}`);
  }
  const denom = f.rows * f.cols * (f.maskIndex === null ? f.classes : f.classes - 1);
  if (f.coverageDenominator !== denom) {
    throw new UserInputError(`BSP family ${f.name}: coverage denominator ${f.coverageDenominator}, expected ${denom}`);
  }
}

/**
 * Build a LabelSet from one dense (positions × cells) 0/1 Uint8 matrix per family
 * (what `labelMany` in src/games/types.ts produces).
 */
export function labelSetFromDense(families: readonly EvalFamily[], matrices: readonly Uint8Array[], positions: number): LabelSet {
  if (families.length !== matrices.length) throw new Error('labelSetFromDense: one matrix per family');
  if (families.length === 0) throw new UserInputError('no BSP families to evaluate');
  const names = new Set<string>();
  for (const f of families) {
    checkFamily(f);
    if (names.has(f.name)) throw new UserInputError(`BSP family ${f.name} given twice`);
    names.add(f.name);
  }
  const offsets = new Int32Array(families.length + 1);
  families.forEach((f, k) => (offsets[k + 1] = offsets[k] + f.cells));
  const totalCells = offsets[families.length];
  let total = 0;
  families.forEach((f, k) => {
    const m = matrices[k];
    if (m.length !== positions * f.cells) {
      throw new UserInputError(`labels of ${f.name}: ${m.length} values, expected ${positions} positions × ${f.cells} cells`);
    }
    for (let i = 0; i < m.length; i++) if (m[i]) total++;
  });
  const ptr = new Int32Array(positions + 1);
  const cells = new Int32Array(total);
  const truthCount = new Int32Array(totalCells);
  let k = 0;
  for (let p = 0; p < positions; p++) {
    for (let fi = 0; fi < families.length; fi++) {
      const C = families[fi].cells;
      const m = matrices[fi];
      const off = offsets[fi];
      const base = p * C;
      for (let c = 0; c < C; c++) {
        const v = m[base + c];
        if (v === 0) continue;
        if (v !== 1) throw new UserInputError(`labels of ${families[fi].name}: value ${v} at position ${p}, cell ${c} (labels must be 0/1)`);
        cells[k++] = off + c;
        truthCount[off + c]++;
      }
    }
    ptr[p + 1] = k;
  }
  return { families, offsets, totalCells, positions, ptr, cells, truthCount };
}

/** Keep only some positions (e.g. chess dots), in the given order. */
export function selectLabelRows(labels: LabelSet, rows: ArrayLike<number>): LabelSet {
  let n = 0;
  for (let i = 0; i < rows.length; i++) n += labels.ptr[rows[i] + 1] - labels.ptr[rows[i]];
  const ptr = new Int32Array(rows.length + 1);
  const cells = new Int32Array(n);
  const truthCount = new Int32Array(labels.totalCells);
  let k = 0;
  for (let i = 0; i < rows.length; i++) {
    for (let j = labels.ptr[rows[i]]; j < labels.ptr[rows[i] + 1]; j++) {
      cells[k++] = labels.cells[j];
      truthCount[labels.cells[j]]++;
    }
    ptr[i + 1] = k;
  }
  return { ...labels, positions: rows.length, ptr, cells, truthCount };
}
