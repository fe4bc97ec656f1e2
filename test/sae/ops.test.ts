/**
 * colSum's two paths: the [1, B]·[B, C] product (native kernels) and the host loop the wasm+js
 * backend uses (where that product is slow), against each other and a float64 sum.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tensor/backend.js';
import { colSum, hostColSum } from '../../src/sae/ops.js';
import { Rng } from '../../src/sae/index.js';

beforeAll(async () => {
  await initBackend();
});

describe('colSum', () => {
  it('host and matmul paths give the column sums', () => {
    const [B, C] = [37, 19];
    const r = new Rng(3);
    const data = Float32Array.from({ length: B * C }, () => r.normal() * 10);
    const t = tf.tensor2d(data, [B, C]);
    const ref = new Float64Array(C);
    for (let i = 0; i < data.length; i++) ref[i % C] += data[i];
    const before = tf.memory().numTensors;
    for (const sums of [hostColSum(t), colSum(t)]) {
      expect(sums.shape).toEqual([C]);
      const got = sums.dataSync();
      for (let c = 0; c < C; c++) expect(got[c]).toBeCloseTo(ref[c], 3);
      sums.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    t.dispose();
  });
});
