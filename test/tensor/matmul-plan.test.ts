import { describe, expect, it } from 'vitest';
import { broadcastShapes, planBatchMatMul } from '../../src/tensor/kernels/matmul_plan.js';

describe('planBatchMatMul', () => {
  it('folds a batch into the rows when B has no batch and A is not transposed', () => {
    const p = planBatchMatMul([2, 3, 7, 5], [5, 4], false, false);
    expect(p).toMatchObject({ M: 42, N: 4, K: 5, outShape: [2, 3, 7, 4], folded: true });
    expect(Array.from(p.aOffsets)).toEqual([0]);
    const q = planBatchMatMul([2, 3, 7, 5], [1, 1, 4, 5], false, true); // size-1 batch dims fold too
    expect(q).toMatchObject({ M: 42, N: 4, K: 5, outShape: [2, 3, 7, 4], folded: true });
  });

  it('does not fold a transposed A; one GEMM per batch item', () => {
    const p = planBatchMatMul([2, 5, 7], [5, 4], true, false);
    expect(p).toMatchObject({ M: 7, N: 4, K: 5, outShape: [2, 7, 4], folded: false });
    expect(Array.from(p.aOffsets)).toEqual([0, 35]);
    expect(Array.from(p.bOffsets)).toEqual([0, 0]);
  });

  it('broadcasts batch dims numpy-style (hand-checked offsets)', () => {
    // out batch [2,3]; A [2,1] repeats along the 3, B [1,3] repeats along the 2.
    const p = planBatchMatMul([2, 1, 3, 5], [1, 3, 5, 2], false, false);
    expect(p.outShape).toEqual([2, 3, 3, 2]);
    expect(Array.from(p.aOffsets)).toEqual([0, 0, 0, 15, 15, 15]);
    expect(Array.from(p.bOffsets)).toEqual([0, 10, 20, 0, 10, 20]);
    // Lower-rank operand aligns to the right: [3] against [2,3].
    const q = planBatchMatMul([3, 1, 4], [2, 3, 4, 6], false, false);
    expect(q.outShape).toEqual([2, 3, 1, 6]);
    expect(Array.from(q.aOffsets)).toEqual([0, 4, 8, 0, 4, 8]);
    expect(Array.from(q.bOffsets)).toEqual([0, 24, 48, 72, 96, 120]);
  });

  it('rejects mismatched inner dims, incompatible batches and rank < 2', () => {
    expect(() => planBatchMatMul([3, 4], [5, 6], false, false)).toThrow(/inner shapes \(4\) and \(5\)/);
    expect(() => planBatchMatMul([3, 4], [5, 6], true, false)).toThrow(/inner shapes \(3\) and \(5\)/);
    expect(() => planBatchMatMul([2, 3, 4], [3, 4, 2], false, false)).toThrow(/could not be broadcast/);
    expect(() => planBatchMatMul([4], [4, 2], false, false)).toThrow(/rank >= 2/);
  });

  it('broadcastShapes follows numpy', () => {
    expect(broadcastShapes([2, 1], [1, 3])).toEqual([2, 3]);
    expect(broadcastShapes([], [4])).toEqual([4]);
    expect(broadcastShapes([5, 1, 3], [4, 1])).toEqual([5, 4, 3]);
    expect(() => broadcastShapes([2], [3])).toThrow();
  });
});
