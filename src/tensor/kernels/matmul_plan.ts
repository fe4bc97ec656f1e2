/**
 * Shape logic for batched matmuls, shared by the native kernels: validates shapes the way tfjs
 * does, broadcasts batch dimensions, and folds a broadcast batch into the GEMM rows when that is
 * possible (x[B,T,C] @ W[C,N] is one [B·T, C] @ [C, N] GEMM instead of B small ones).
 */

export interface MatMulPlan {
  transA: boolean;
  transB: boolean;
  /** Rows of each product (after folding, the rows of the single GEMM). */
  M: number;
  N: number;
  K: number;
  /** Shape of the result: broadcast batch dims + [rows of op(A), cols of op(B)]. */
  outShape: number[];
  /** Element offset of A_i and B_i for each GEMM call (one entry per call). */
  aOffsets: Float64Array;
  bOffsets: Float64Array;
  /** True when the batch was folded into M (one GEMM call). */
  folded: boolean;
}

function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** numpy-style broadcast of two batch shapes; throws (like tfjs) when they are incompatible. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`Operands could not be broadcast together with shapes ${shapeStr(a)} and ${shapeStr(b)}.`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Element offsets, for each index of `outBatch` (row-major), of the matching matrix in an operand
 * with batch shape `batch` (broadcast against `outBatch`) and `matSize` elements per matrix.
 */
function broadcastOffsets(batch: readonly number[], outBatch: readonly number[], matSize: number): Float64Array {
  const total = sizeOf(outBatch);
  const rank = outBatch.length;
  // Stride of each output batch dim in the operand (0 where the operand broadcasts).
  const strides = new Array<number>(rank).fill(0);
  let stride = matSize;
  for (let i = rank - 1; i >= 0; i--) {
    const d = batch[batch.length - rank + i] ?? 1;
    strides[i] = d === 1 ? 0 : stride;
    stride *= d;
  }
  const offsets = new Float64Array(total);
  const idx = new Array<number>(rank).fill(0);
  let off = 0;
  for (let n = 0; n < total; n++) {
    offsets[n] = off;
    // Odometer increment over outBatch.
    for (let i = rank - 1; i >= 0; i--) {
      idx[i]++;
      off += strides[i];
      if (idx[i] < outBatch[i]) break;
      off -= strides[i] * idx[i];
      idx[i] = 0;
    }
  }
  return offsets;
}

export function planBatchMatMul(
  aShape: readonly number[],
  bShape: readonly number[],
  transA: boolean,
  transB: boolean,
): MatMulPlan {
  if (aShape.length < 2 || bShape.length < 2) {
    throw new Error(`matMul needs rank >= 2 operands, got shapes ${shapeStr(aShape)} and ${shapeStr(bShape)}.`);
  }
  const ra = aShape.length;
  const rb = bShape.length;
  const M = transA ? aShape[ra - 1] : aShape[ra - 2];
  const Ka = transA ? aShape[ra - 2] : aShape[ra - 1];
  const Kb = transB ? bShape[rb - 1] : bShape[rb - 2];
  const N = transB ? bShape[rb - 2] : bShape[rb - 1];
  if (Ka !== Kb) {
    throw new Error(
      `Error in matMul: inner shapes (${Ka}) and (${Kb}) of Tensors with shapes ${shapeStr(aShape)} and ` +
        `${shapeStr(bShape)} and transposeA=${transA} and transposeB=${transB} must match.`,
    );
  }
  const K = Ka;
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const outBatch = broadcastShapes(aBatch, bBatch);
  const outShape = [...outBatch, M, N];
  const batchCount = sizeOf(outBatch);

  // B shared by the whole batch and A's matrices stacked row-major: one tall GEMM. (A's batch
  // size equals the output's here, because B contributes no batch.)
  if (sizeOf(bBatch) === 1 && !transA && batchCount > 1) {
    return {
      transA,
      transB,
      M: M * batchCount,
      N,
      K,
      outShape,
      aOffsets: new Float64Array([0]),
      bOffsets: new Float64Array([0]),
      folded: true,
    };
  }
  return {
    transA,
    transB,
    M,
    N,
    K,
    outShape,
    aOffsets: broadcastOffsets(aBatch, outBatch, M * K),
    bOffsets: broadcastOffsets(bBatch, outBatch, K * N),
    folded: false,
  };
}
