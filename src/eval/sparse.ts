/**
 * Sparse feature activations. SAE activations are very sparse (L0 ≈ 10–400 of 4k–16k features), so
 * everything downstream works on CSR (position-major) and, for the per-feature statistics, on a
 * feature-major transpose that carries each activation's threshold *level* instead of its value.
 */
import { UserInputError } from '../errors.js';
import { NUM_THRESHOLDS, levelOf, thresholdTable } from './thresholds.js';

/** positions × features, compressed sparse rows. Only non-zero activations are stored. */
export interface CsrActivations {
  positions: number;
  features: number;
  /** length positions+1; row p is [indptr[p], indptr[p+1]). */
  indptr: Int32Array;
  /** feature index of each entry (ascending within a row). */
  indices: Int32Array;
  values: Float32Array;
}

export function nnz(csr: CsrActivations): number {
  return csr.indptr[csr.positions];
}

/**
 * Incrementally builds a CSR matrix from dense (rows × F) Float32 blocks, e.g. straight from an
 * SAE encoder batch, so the dense matrix of all positions never has to exist. NaN or infinite
 * activations are rejected (bad SAE weights or inputs) before anything downstream sees them.
 */
export class CsrBuilder {
  private indptr: Int32Array;
  private indices: Int32Array;
  private values: Float32Array;
  private rows = 0;
  private count = 0;

  constructor(
    readonly features: number,
    expectedRows = 1024,
    expectedNnz = expectedRows * 64,
    /** Used in error messages, e.g. "SAE ckpt-3 on D_train". */
    private readonly what = 'activations',
  ) {
    this.indptr = new Int32Array(Math.max(expectedRows, 1) + 1);
    this.indices = new Int32Array(Math.max(expectedNnz, 16));
    this.values = new Float32Array(Math.max(expectedNnz, 16));
  }

  get positions(): number {
    return this.rows;
  }

  /** Append `rows` dense rows (row-major, rows × features). */
  appendDense(block: Float32Array, rows: number): void {
    const F = this.features;
    if (block.length < rows * F) throw new Error(`appendDense: block has ${block.length} values, need ${rows}×${F}`);
    this.reserveRows(rows);
    for (let r = 0; r < rows; r++) {
      const base = r * F;
      let n = 0;
      for (let f = 0; f < F; f++) if (block[base + f] !== 0) n++;
      this.reserveNnz(n);
      let k = this.count;
      for (let f = 0; f < F; f++) {
        const v = block[base + f];
        if (v !== 0) {
          if (!Number.isFinite(v)) this.badValue(v, this.rows, f);
          this.indices[k] = f;
          this.values[k] = v;
          k++;
        }
      }
      this.count = k;
      this.rows++;
      this.indptr[this.rows] = k;
    }
  }

  /** Append one sparse row (feature indices ascending). */
  appendSparseRow(features: ArrayLike<number>, values: ArrayLike<number>): void {
    this.reserveRows(1);
    this.reserveNnz(features.length);
    let k = this.count;
    for (let j = 0; j < features.length; j++) {
      const v = values[j];
      if (v === 0) continue;
      const f = features[j];
      if (!Number.isFinite(v)) this.badValue(v, this.rows, f);
      if (f < 0 || f >= this.features) throw new UserInputError(`${this.what}: feature index ${f} out of range [0, ${this.features})`);
      this.indices[k] = f;
      this.values[k] = v;
      k++;
    }
    this.count = k;
    this.rows++;
    this.indptr[this.rows] = k;
  }

  finish(): CsrActivations {
    return {
      positions: this.rows,
      features: this.features,
      indptr: this.indptr.slice(0, this.rows + 1),
      indices: this.indices.slice(0, this.count),
      values: this.values.slice(0, this.count),
    };
  }

  private badValue(v: number, row: number, f: number): never {
    throw new UserInputError(`${this.what}: ${v} activation at position ${row}, feature ${f} (NaN/inf activations: check the SAE weights and LM inputs)`);
  }

  private reserveRows(n: number): void {
    if (this.rows + n + 1 <= this.indptr.length) return;
    const next = new Int32Array(Math.max(this.indptr.length * 2, this.rows + n + 1));
    next.set(this.indptr);
    this.indptr = next;
  }

  private reserveNnz(n: number): void {
    if (this.count + n <= this.indices.length) return;
    const size = Math.max(this.indices.length * 2, this.count + n);
    if (size > 2 ** 31 - 1) throw new Error('CsrBuilder: more than 2^31 non-zero activations; evaluate fewer positions');
    const idx = new Int32Array(size);
    idx.set(this.indices.subarray(0, this.count));
    const val = new Float32Array(size);
    val.set(this.values.subarray(0, this.count));
    this.indices = idx;
    this.values = val;
  }
}

export function denseToCsr(dense: Float32Array, positions: number, features: number, what?: string): CsrActivations {
  if (dense.length !== positions * features) {
    throw new UserInputError(`${what ?? 'activations'}: ${dense.length} values, expected ${positions} positions × ${features} features`);
  }
  let n = 0;
  for (let i = 0; i < dense.length; i++) if (dense[i] !== 0) n++;
  const b = new CsrBuilder(features, positions, n, what);
  b.appendDense(dense, positions);
  return b.finish();
}

/** Rows [start, end) as a new CSR sharing no memory with the input. */
export function sliceRows(csr: CsrActivations, start: number, end: number): CsrActivations {
  const a = csr.indptr[start];
  const b = csr.indptr[end];
  const indptr = new Int32Array(end - start + 1);
  for (let i = 0; i <= end - start; i++) indptr[i] = csr.indptr[start + i] - a;
  return { positions: end - start, features: csr.features, indptr, indices: csr.indices.slice(a, b), values: csr.values.slice(a, b) };
}

/** Select rows by index (e.g. the dot positions of chess games) into a new CSR. */
export function selectRows(csr: CsrActivations, rows: ArrayLike<number>): CsrActivations {
  let n = 0;
  for (let i = 0; i < rows.length; i++) n += csr.indptr[rows[i] + 1] - csr.indptr[rows[i]];
  const indptr = new Int32Array(rows.length + 1);
  const indices = new Int32Array(n);
  const values = new Float32Array(n);
  let k = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (r < 0 || r >= csr.positions) throw new RangeError(`selectRows: row ${r} out of range [0, ${csr.positions})`);
    for (let j = csr.indptr[r]; j < csr.indptr[r + 1]; j++, k++) {
      indices[k] = csr.indices[j];
      values[k] = csr.values[j];
    }
    indptr[i + 1] = k;
  }
  return { positions: rows.length, features: csr.features, indptr, indices, values };
}

/**
 * Activations binarised at all 11 thresholds at once, in feature-major order: for every alive
 * feature, the positions where it is on at t = 0 (ascending) and their levels (1..11).
 * Dead features and level-0 activations are dropped here (metrics.md §2, §9.7).
 */
export interface FeatureLevels {
  /** Size of the feature index space (the SAE's dictionary size). */
  features: number;
  positions: number;
  /** Alive feature ids, ascending; statistics are produced for these only. */
  alive: Int32Array;
  /** ptr[f] .. ptr[f+1] indexes `pos`/`level` for feature f (length features+1; dead features are empty). */
  ptr: Int32Array;
  pos: Int32Array;
  level: Uint8Array;
}

/** Level of every CSR entry (0 for dead features or values at/below thr[0]). */
export function entryLevels(csr: CsrActivations, maxima: Float32Array, alive: Uint8Array, table = thresholdTable(maxima)): Uint8Array {
  const total = nnz(csr);
  const out = new Uint8Array(total);
  const { indices, values } = csr;
  for (let j = 0; j < total; j++) {
    const f = indices[j];
    out[j] = alive[f] ? levelOf(values[j], table, f * NUM_THRESHOLDS) : 0;
  }
  return out;
}

export function toFeatureLevels(csr: CsrActivations, maxima: Float32Array, alive: Uint8Array): FeatureLevels {
  const F = csr.features;
  if (maxima.length !== F || alive.length !== F) {
    throw new UserInputError(`feature maxima cover ${maxima.length} features but the activations have ${F}`);
  }
  const levels = entryLevels(csr, maxima, alive);
  const ptr = new Int32Array(F + 1);
  const { indices, indptr } = csr;
  const total = levels.length;
  for (let j = 0; j < total; j++) if (levels[j] > 0) ptr[indices[j] + 1]++;
  for (let f = 0; f < F; f++) ptr[f + 1] += ptr[f];
  const fill = ptr.slice(0, F);
  const pos = new Int32Array(ptr[F]);
  const level = new Uint8Array(ptr[F]);
  for (let p = 0; p < csr.positions; p++) {
    for (let j = indptr[p]; j < indptr[p + 1]; j++) {
      const lv = levels[j];
      if (lv === 0) continue;
      const k = fill[indices[j]]++;
      pos[k] = p;
      level[k] = lv;
    }
  }
  let nAlive = 0;
  for (let f = 0; f < F; f++) if (alive[f]) nAlive++;
  const aliveIds = new Int32Array(nAlive);
  for (let f = 0, k = 0; f < F; f++) if (alive[f]) aliveIds[k++] = f;
  return { features: F, positions: csr.positions, alive: aliveIds, ptr, pos, level };
}
