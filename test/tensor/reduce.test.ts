/**
 * The native Sum over leading axes (src/tensor/kernels/reduce.ts): same values as a float64
 * reference and as the stock wasm kernel, keepDims, every other reduction left to the stock
 * kernel, the gradient path that uses it (a bias gradient), and no leaks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tensor/backend.js';
import { loadNative } from '../../src/tensor/kernels/native.js';
import { installNativeReductions, leadingAxesSplit } from '../../src/tensor/kernels/reduce.js';
import { maxRelativeError, randomArray } from './reference.js';

const native = loadNative();

beforeAll(async () => {
  await initBackend();
});

afterAll(() => {
  if (tf.getBackend() === 'wasm') installNativeReductions(native.addon); // as initBackend left it
});

/** Σ over the first `k` axes of a row-major array, in float64. */
function refLeadingSum(data: Float32Array, shape: number[], k: number): number[] {
  const cols = shape.slice(k).reduce((a, b) => a * b, 1);
  const rows = data.length / cols;
  const out = new Array<number>(cols).fill(0);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c] += data[r * cols + c];
  return out;
}

describe('leadingAxesSplit', () => {
  it('accepts exactly the leading axes, in any order or sign, and leaves something', () => {
    expect(leadingAxesSplit([6144, 192], 0)).toEqual({ rows: 6144, cols: 192, kept: [192] });
    expect(leadingAxesSplit([1, 6144, 768], [1, 0])).toEqual({ rows: 6144, cols: 768, kept: [768] });
    expect(leadingAxesSplit([4, 5, 6], [-3])).toEqual({ rows: 4, cols: 30, kept: [5, 6] });
    expect(leadingAxesSplit([4, 5, 6], [0, 2])).toBeNull(); // not a prefix
    expect(leadingAxesSplit([4, 5], [1])).toBeNull(); // innermost: stock
    expect(leadingAxesSplit([4, 5], [0, 1])).toBeNull(); // everything: stock
    expect(leadingAxesSplit([7], 0)).toBeNull();
    expect(leadingAxesSplit([4, 5], undefined)).toBeNull();
  });
});

describe.skipIf(!native.addon)('native Sum over leading axes on wasm+native', () => {
  const cases: { shape: number[]; axis: number | number[] }[] = [
    { shape: [6144, 192], axis: 0 },
    { shape: [1, 6144, 768], axis: [0, 1] },
    { shape: [3, 5, 7], axis: [1, 0] },
    { shape: [2, 3, 4, 5], axis: -4 },
  ];

  it.each(cases)('sums $shape over $axis as the float64 reference and the stock kernel do', ({ shape, axis }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = randomArray(n, n % 97).map((v) => v * 3 + 0.5);
    const x = tf.tensor(data, shape);
    const k = leadingAxesSplit(shape, axis)!.kept.length;
    const expected = refLeadingSum(data, shape, shape.length - k);
    const mine = tf.sum(x, axis);
    expect(mine.shape).toEqual(shape.slice(shape.length - k));
    expect(maxRelativeError(mine.dataSync(), expected, expected.map((v) => Math.max(1, Math.abs(v))))).toBeLessThan(1e-6);
    const kept = tf.sum(x, axis, true);
    expect(kept.shape).toEqual(shape.map((d, i) => (i < shape.length - k ? 1 : d)));
    expect(Array.from(kept.dataSync())).toEqual(Array.from(mine.dataSync()));
    installNativeReductions(null);
    try {
      const stock = tf.sum(x, axis);
      // the stock kernel sums in float32: agreement to its rounding
      expect(maxRelativeError(stock.dataSync(), expected, expected.map((v) => Math.max(1, Math.abs(v))))).toBeLessThan(1e-4);
      stock.dispose();
    } finally {
      installNativeReductions(native.addon);
    }
    tf.dispose([x, mine, kept]);
  });

  it('is what initBackend registered for Sum, and swaps back to the stock kernel', () => {
    const mine = tf.getKernel(tf.Sum, 'wasm')!.kernelFunc;
    expect(installNativeReductions(null)).toEqual([]);
    const stock = tf.getKernel(tf.Sum, 'wasm')!.kernelFunc;
    expect(stock).not.toBe(mine);
    expect(installNativeReductions(native.addon)).toEqual(['Sum']);
    expect(tf.getKernel(tf.Sum, 'wasm')!.kernelFunc).not.toBe(stock);
  });

  it('leaves other reductions to the stock kernel (innermost axes, everything, int32)', () => {
    const data = randomArray(60, 5);
    const x = tf.tensor(data, [3, 4, 5]);
    const inner = tf.sum(x, 2).dataSync();
    for (let r = 0; r < 12; r++) {
      let s = 0;
      for (let c = 0; c < 5; c++) s += data[r * 5 + c];
      expect(inner[r]).toBeCloseTo(s, 5);
    }
    expect(tf.sum(x, [0, 2]).shape).toEqual([4]);
    expect(tf.sum(x).dataSync()[0]).toBeCloseTo(data.reduce((a, b) => a + b, 0), 4);
    const ints = tf.tensor([[1, 2], [3, 4], [5, 6]], [3, 2], 'int32');
    const intSum = tf.sum(ints, 0);
    expect(intSum.dtype).toBe('int32');
    expect(Array.from(intSum.dataSync())).toEqual([9, 12]);
    tf.dispose([x, ints, intSum]);
  });

  it('gives the bias gradient of a batched product, and leaks nothing', () => {
    const before = tf.memory().numTensors;
    const x = tf.tensor(randomArray(64 * 8, 3), [64, 8]);
    const w = tf.tensor(randomArray(8 * 16, 4), [8, 16]);
    const b = tf.zeros([16]);
    const dy = tf.tensor(randomArray(64 * 16, 6), [64, 16]);
    const dbFrom = tf.grad((bias: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.matMul(x, w), bias), dy)))(b);
    const expected = refLeadingSum(dy.dataSync() as Float32Array, [64, 16], 1);
    expect(maxRelativeError(dbFrom.dataSync(), expected, expected.map((v) => Math.max(1, Math.abs(v))))).toBeLessThan(1e-6);
    tf.dispose([x, w, b, dy, dbFrom]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
