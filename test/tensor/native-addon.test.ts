/**
 * The N-API addon called directly: GEMM results against a float64 reference, the fused epilogues,
 * and the argument validation that keeps bad calls from crashing the process.
 * Skipped only when the addon is not built (no OpenBLAS/compiler); CI installs both.
 */
import { describe, expect, it } from 'vitest';
import { loadNative, type NativeAddon } from '../../src/tensor/kernels/native.js';
import {
  ACTIVATIONS,
  maxRelativeError,
  randomArray,
  refGelu,
  refGeluErf,
  refGeluErfGrad,
  refGeluGrad,
  refLayerNorm,
  refMatMul,
} from './reference.js';

const loaded = loadNative();
const addon = loaded.addon as NativeAddon;
if (!loaded.addon) console.warn(`native addon tests skipped: ${loaded.reason}`);

describe.skipIf(!loaded.addon)('native addon', () => {
  it('reports the OpenBLAS configuration', () => {
    const info = addon.info();
    expect(info.config).toMatch(/OpenBLAS/);
    expect(info.corename.length).toBeGreaterThan(0);
    expect(info.blasThreads).toBeGreaterThanOrEqual(1);
    expect(info.threads).toBeGreaterThanOrEqual(1);
  });

  describe('sgemm', () => {
    const shapes: [number, number, number][] = [
      [1, 1, 1],
      [7, 1, 513],
      [1, 513, 7],
      [513, 7, 7],
      [7, 7, 513],
      [33, 65, 17],
    ];
    for (const [M, N, K] of shapes) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          it(`M=${M} N=${N} K=${K} transA=${transA} transB=${transB}`, () => {
            const a = randomArray(M * K, M * 31 + K);
            const b = randomArray(K * N, N * 17 + K);
            const aShape = transA ? [K, M] : [M, K];
            const bShape = transB ? [N, K] : [K, N];
            const c = new Float32Array(M * N).fill(Number.NaN); // the kernel must overwrite everything
            addon.sgemm(transA, transB, M, N, K, a, 0, b, 0, c, 0);
            const ref = refMatMul(a, aShape, b, bShape, transA, transB);
            expect(maxRelativeError(c, ref.values, ref.scale)).toBeLessThan(1e-4);
          });
        }
      }
    }

    it('runs a batch at arbitrary offsets inside one buffer (repeated offsets = broadcasting)', () => {
      const [M, N, K] = [3, 4, 5];
      // Layout in one heap: [pad 3][A0][A1][B0][C0 C1 C2]
      const heap = new Float32Array(3 + 2 * M * K + K * N + 3 * M * N + 2);
      heap.set(randomArray(heap.length, 7));
      const a0 = 3;
      const a1 = a0 + M * K;
      const b0 = a1 + M * K;
      const c0 = b0 + K * N;
      const aOffs = new Float64Array([a0, a1, a0]);
      const bOffs = new Float64Array([b0, b0, b0]);
      const before = heap.slice();
      addon.sgemm(false, false, M, N, K, heap, aOffs, heap, bOffs, heap, c0);
      for (let i = 0; i < 3; i++) {
        const ref = refMatMul(before.subarray(aOffs[i], aOffs[i] + M * K), [M, K], before.subarray(b0, b0 + K * N), [K, N], false, false);
        const got = heap.subarray(c0 + i * M * N, c0 + (i + 1) * M * N);
        expect(maxRelativeError(got, ref.values, ref.scale)).toBeLessThan(1e-4);
      }
      // Nothing outside C changed.
      expect(Array.from(heap.subarray(0, c0))).toEqual(Array.from(before.subarray(0, c0)));
      expect(Array.from(heap.subarray(c0 + 3 * M * N))).toEqual(Array.from(before.subarray(c0 + 3 * M * N)));
    });

    it('splits a batch of small products over the threads: every product right, thread count kept', () => {
      // attention's shape: B·H products of [T, hd]·[hd, T]ᵀ, small enough for the batch split
      const [batch, T, hd] = [48, 59, 32];
      const a = randomArray(batch * T * hd, 31);
      const b = randomArray(batch * T * hd, 32);
      const offs = Float64Array.from({ length: batch }, (_, i) => i * T * hd);
      const initialThreads = addon.info().threads;
      try {
        const run = (threads: number) => {
          addon.setThreads(threads);
          const c = new Float32Array(batch * T * T);
          addon.sgemm(false, true, T, T, hd, a, offs, b, offs, c, 0);
          expect(addon.info().threads).toBe(threads); // the split restores the libraries' threads
          expect(addon.info().blasThreads).toBe(threads);
          return c;
        };
        const one = run(1);
        const two = run(2);
        for (let i = 0; i < batch; i++) {
          const ref = refMatMul(a.subarray(offs[i], offs[i] + T * hd), [T, hd], b.subarray(offs[i], offs[i] + T * hd), [T, hd], false, true);
          expect(maxRelativeError(two.subarray(i * T * T, (i + 1) * T * T), ref.values, ref.scale), `product ${i}`).toBeLessThan(1e-4);
        }
        // each product is one single-threaded call either way: the same bits
        expect(Array.from(two)).toEqual(Array.from(one));
      } finally {
        addon.setThreads(initialThreads);
      }
    });

    it('accepts an ArrayBuffer (the wasm heap) as well as Float32Arrays', () => {
      const buf = new ArrayBuffer(4 * 12);
      const view = new Float32Array(buf);
      view.set([1, 2, 3, 4, /* B */ 5, 6, 7, 8]); // A = [[1,2],[3,4]], B = [[5,6],[7,8]]
      addon.sgemm(false, false, 2, 2, 2, buf, 0, buf, 4, buf, 8);
      expect(Array.from(view.subarray(8))).toEqual([19, 22, 43, 50]);
    });

    it('K = 0 gives zeros and M = 0 writes nothing', () => {
      const c = new Float32Array(6).fill(Number.NaN);
      addon.sgemm(false, false, 2, 3, 0, new Float32Array(0), 0, new Float32Array(0), 0, c, 0);
      expect(Array.from(c)).toEqual([0, 0, 0, 0, 0, 0]);
      const untouched = new Float32Array(2).fill(5);
      addon.sgemm(false, false, 0, 2, 3, new Float32Array(0), 0, new Float32Array(6), 0, untouched, 0);
      expect(Array.from(untouched)).toEqual([5, 5]);
    });

    it('throws JS errors (never crashes) on bad arguments', () => {
      const a = new Float32Array(6);
      const b = new Float32Array(6);
      const c = new Float32Array(4);
      const call = (...args: unknown[]) => () => (addon.sgemm as (...x: unknown[]) => void)(...args);
      expect(call(false, false, 2, 2, 3, a, 0, b, 0, c)).toThrow(/expected 11 arguments/);
      expect(call('no', false, 2, 2, 3, a, 0, b, 0, c, 0)).toThrow(TypeError);
      expect(call(false, false, -1, 2, 3, a, 0, b, 0, c, 0)).toThrow(RangeError);
      expect(call(false, false, 2.5, 2, 3, a, 0, b, 0, c, 0)).toThrow(RangeError);
      expect(call(false, false, 2 ** 31, 2, 3, a, 0, b, 0, c, 0)).toThrow(RangeError);
      expect(call(false, false, 3, 2, 3, a, 0, b, 0, c, 0)).toThrow(/outside the buffer/); // C too small
      expect(call(false, false, 2, 2, 3, a, 1, b, 0, c, 0)).toThrow(/sgemm A: elements \[1, 7\)/);
      expect(call(false, false, 2, 2, 3, a, Number.NaN, b, 0, c, 0)).toThrow(RangeError);
      expect(call(false, false, 2, 2, 3, a, 0, b, 0, c, -4)).toThrow(RangeError);
      expect(call(false, false, 2, 2, 3, a, new Float64Array([0, 9]), b, new Float64Array([0, 0]), new Float32Array(8), 0)).toThrow(
        /outside the buffer/,
      );
      expect(call(false, false, 2, 2, 3, a, new Float64Array([0]), b, new Float64Array([0, 0]), c, 0)).toThrow(/1 A offsets but 2 B offsets/);
      expect(call(false, false, 2, 2, 3, new Int32Array(6), 0, b, 0, c, 0)).toThrow(TypeError);
      expect(call(false, false, 2, 2, 3, [1, 2, 3, 4, 5, 6], 0, b, 0, c, 0)).toThrow(TypeError);
      expect(call(false, false, 2, 2, 3, a, 0, b, 0, a, 0)).toThrow(/overlaps an input/);
      expect(call(false, false, 2, 2, 3, a, new Int32Array([0]), b, 0, c, 0)).toThrow(TypeError);
      // A view that is not 4-byte aligned inside its buffer cannot be a Float32Array, but an
      // ArrayBuffer whose byte length is not a multiple of 4 only exposes whole floats.
      expect(call(false, false, 1, 1, 3, new ArrayBuffer(10), 0, b, 0, c, 0)).toThrow(/outside the buffer of 2 floats/);
    });
  });

  describe('biasAct', () => {
    // rows = 2, cols = 3; x + bias = [-1, -1.5, 0.5, 1.5, 2, 7.5]
    const x = [-2, -0.5, 0, 0.5, 3, 7];
    const bias = new Float32Array([1, -1, 0.5]);
    const pre = [-1, -1.5, 0.5, 1.5, 2, 7.5];
    const codes: Record<string, number> = { linear: 0, relu: 1, relu6: 2, prelu: 3, leakyrelu: 4, sigmoid: 5, elu: 6 };
    const preluW = new Float32Array([0.5, 2, 3]);
    const run = (act: string) => {
      const c = new Float32Array(x);
      addon.biasAct(c, 0, 2, 3, codes[act], bias, 0, 3, 0.1, act === 'prelu' ? preluW : null, 0, 3);
      return Array.from(c);
    };

    it('applies bias then the activation (hand-checked values)', () => {
      expect(run('linear')).toEqual(pre);
      expect(run('relu')).toEqual([0, 0, 0.5, 1.5, 2, 7.5]);
      expect(run('relu6')).toEqual([0, 0, 0.5, 1.5, 2, 6]);
      expect(run('leakyrelu').map((v) => Math.round(v * 1e6) / 1e6)).toEqual([-0.1, -0.15, 0.5, 1.5, 2, 7.5]);
      expect(run('prelu')).toEqual([-0.5, -3, 0.5, 1.5, 2, 7.5]);
    });

    it('sigmoid and elu match their formulas', () => {
      for (const act of ['sigmoid', 'elu']) {
        const expected = pre.map((v) => ACTIVATIONS[act](v, 0, 0));
        expect(maxRelativeError(run(act), expected)).toBeLessThan(1e-6);
      }
    });

    it('takes a scalar bias and no bias', () => {
      const c = new Float32Array([1, 2, 3, 4]);
      addon.biasAct(c, 0, 2, 2, 0, new Float32Array([10]), 0, 1, 0, null, 0, 0);
      expect(Array.from(c)).toEqual([11, 12, 13, 14]);
      const d = new Float32Array([-1, 2]);
      addon.biasAct(d, 0, 1, 2, 1, null, 0, 0, 0, null, 0, 0);
      expect(Array.from(d)).toEqual([0, 2]);
    });

    it('rejects bad bias lengths, missing prelu weights and unknown activations', () => {
      const c = new Float32Array(6);
      expect(() => addon.biasAct(c, 0, 2, 3, 0, new Float32Array(2), 0, 2, 0, null, 0, 0)).toThrow(/expected 1 or 3/);
      expect(() => addon.biasAct(c, 0, 2, 3, 3, null, 0, 0, 0, null, 0, 0)).toThrow(/needs prelu weights/);
      expect(() => addon.biasAct(c, 0, 2, 3, 7, null, 0, 0, 0, null, 0, 0)).toThrow(RangeError);
      expect(() => addon.biasAct(c, 1, 2, 3, 1, null, 0, 0, 0, null, 0, 0)).toThrow(/outside the buffer/);
      expect(() => addon.biasAct(c, 0, 1, 3, 0, c, 3, 3, 0, null, 0, 0)).not.toThrow(); // bias after the block: fine
      expect(() => addon.biasAct(c, 0, 2, 3, 0, c, 0, 3, 0, null, 0, 0)).toThrow(/overlaps/);
    });
  });

  describe('gelu', () => {
    it('matches hand-checked values and the tanh formula', () => {
      const x = new Float32Array([0, 1, -1, 3, -3, 10, -10]);
      const y = new Float32Array(x.length);
      addon.gelu(x, 0, y, 0, x.length);
      // 0.5·1·(1 + tanh(√(2/π)·1.044715)) = 0.841192
      expect(y[0]).toBe(0);
      expect(y[1]).toBeCloseTo(0.841192, 5);
      expect(y[2]).toBeCloseTo(-0.158808, 5);
      expect(y[5]).toBeCloseTo(10, 5);
      expect(Math.abs(y[6])).toBeLessThan(1e-6);
      const big = randomArray(100_000, 3).map((v) => v * 6);
      const out = new Float32Array(big.length);
      addon.gelu(big, 0, out, 0, big.length);
      const expected = Array.from(big, refGelu);
      expect(maxRelativeError(out, expected, expected.map((v) => Math.max(Math.abs(v), 1)))).toBeLessThan(2e-6);
    });

    it('works in place', () => {
      const x = new Float32Array([1, -1]);
      addon.gelu(x, 0, x, 0, 2);
      expect(x[0]).toBeCloseTo(0.841192, 5);
    });

    it('gradient matches the analytic derivative and finite differences', () => {
      const x = randomArray(10_000, 5).map((v) => v * 5);
      const dy = randomArray(x.length, 6);
      const dx = new Float32Array(x.length);
      addon.geluGrad(x, 0, dy, 0, dx, 0, x.length);
      const expected = Array.from(x, (v, i) => dy[i] * refGeluGrad(v));
      expect(maxRelativeError(dx, expected, expected.map((v) => Math.max(Math.abs(v), 1)))).toBeLessThan(5e-6);
      for (const v of [-2, -0.3, 0, 0.7, 2.5]) {
        const h = 1e-5;
        expect(refGeluGrad(v)).toBeCloseTo((refGelu(v + h) - refGelu(v - h)) / (2 * h), 6);
      }
    });

    it('rejects out-of-range and partially overlapping arguments', () => {
      const x = new Float32Array(4);
      expect(() => addon.gelu(x, 0, new Float32Array(3), 0, 4)).toThrow(/outside the buffer/);
      expect(() => addon.gelu(x, 0, x, 1, 3)).toThrow(/overlaps/);
      expect(() => addon.geluGrad(x, 0, x, 0, new Float32Array(4), 2, 4)).toThrow(/outside the buffer/);
    });
  });

  describe('geluErf (exact GELU)', () => {
    it('matches x·Φ(x) and its derivative in float64, far into both tails', () => {
      const n = 200_001;
      const x = Float32Array.from({ length: n }, (_, i) => -12 + (24 * i) / (n - 1));
      const y = new Float32Array(n);
      addon.geluErf(x, 0, y, 0, n);
      const dy = randomArray(n, 7);
      const dx = new Float32Array(n);
      addon.geluErfGrad(x, 0, dy, 0, dx, 0, n);
      let maxAbs = 0;
      let maxTailRel = 0;
      let maxGradAbs = 0;
      for (let i = 0; i < n; i++) {
        const ref = refGeluErf(x[i]);
        maxAbs = Math.max(maxAbs, Math.abs(y[i] - ref));
        // the negative tail keeps its relative accuracy (no 1 + erf cancellation) down to x = −9
        if (x[i] < -1 && x[i] > -9) maxTailRel = Math.max(maxTailRel, Math.abs(y[i] - ref) / Math.abs(ref));
        maxGradAbs = Math.max(maxGradAbs, Math.abs(dx[i] - dy[i] * refGeluErfGrad(x[i])));
      }
      expect(maxAbs).toBeLessThan(1e-6); // ≤ ~1 ulp of 12
      expect(maxTailRel).toBeLessThan(2e-5);
      expect(maxGradAbs).toBeLessThan(1e-6);
      expect(y[(n - 1) / 2]).toBe(0); // x = 0
      for (const v of [-2, -0.3, 0.7, 2.5]) {
        const h = 1e-5;
        expect(refGeluErfGrad(v)).toBeCloseTo((refGeluErf(v + h) - refGeluErf(v - h)) / (2 * h), 6);
      }
    });

    it('works in place and rejects bad ranges', () => {
      const x = new Float32Array([1, -1]);
      addon.geluErf(x, 0, x, 0, 2);
      expect(x[0]).toBeCloseTo(0.841345, 5); // Φ(1) = 0.841345
      expect(x[1]).toBeCloseTo(-0.158655, 5);
      expect(() => addon.geluErf(x, 0, new Float32Array(1), 0, 2)).toThrow(/outside the buffer/);
      expect(() => addon.geluErfGrad(x, 0, x, 0, new Float32Array(2), 1, 2)).toThrow(/outside the buffer/);
    });
  });

  describe('softmax', () => {
    const refSoftmaxRows = (x: Float32Array, cols: number) => {
      const out = new Float64Array(x.length);
      for (let r = 0; r < x.length / cols; r++) {
        let m = -Infinity;
        for (let j = 0; j < cols; j++) m = Math.max(m, x[r * cols + j]);
        let sum = 0;
        for (let j = 0; j < cols; j++) sum += out[r * cols + j] = Math.exp(x[r * cols + j] - m);
        for (let j = 0; j < cols; j++) out[r * cols + j] /= sum;
      }
      return out;
    };

    it('matches float64 per row, masked entries are exactly 0, and rows sum to 1', () => {
      for (const cols of [1, 5, 16, 59, 256]) {
        const rows = 37;
        const x = randomArray(rows * cols, cols).map((v) => v * 8);
        for (let r = 0; r < rows; r++) for (let j = r % cols + 1; j < cols; j++) x[r * cols + j] += -1e9; // causal-style mask
        const y = new Float32Array(x.length);
        addon.softmax(x, 0, rows, cols, y, 0);
        const ref = refSoftmaxRows(x, cols);
        expect(maxRelativeError(y, ref, Array.from(ref, () => 1))).toBeLessThan(1e-6);
        for (let r = 0; r < rows; r++) {
          let sum = 0;
          for (let j = 0; j < cols; j++) {
            sum += y[r * cols + j];
            if (j > r % cols) expect(y[r * cols + j]).toBe(0);
          }
          expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
        }
      }
    });

    it('gradient is y·(dy − Σ dy·y) and matches finite differences of Σ w·softmax', () => {
      const rows = 9;
      const cols = 23;
      const x = randomArray(rows * cols, 31).map((v) => v * 3);
      const dy = randomArray(rows * cols, 32);
      const y = new Float32Array(x.length);
      addon.softmax(x, 0, rows, cols, y, 0);
      const dx = new Float32Array(x.length);
      addon.softmaxGrad(y, 0, dy, 0, rows, cols, dx, 0);
      const ref = refSoftmaxRows(x, cols);
      const loss = (xs: Float32Array) => refSoftmaxRows(xs, cols).reduce((acc, v, i) => acc + v * dy[i], 0);
      for (const i of [0, 5, 44, 100, rows * cols - 1]) {
        const r = Math.floor(i / cols);
        let dot = 0;
        for (let j = 0; j < cols; j++) dot += dy[r * cols + j] * ref[r * cols + j];
        expect(dx[i]).toBeCloseTo(ref[i] * (dy[i] - dot), 6);
        const h = 1e-3;
        const plus = new Float32Array(x);
        plus[i] += h;
        const minus = new Float32Array(x);
        minus[i] -= h;
        expect(dx[i]).toBeCloseTo((loss(plus) - loss(minus)) / (2 * h), 3);
      }
    });

    it('works in place and rejects bad arguments', () => {
      const x = new Float32Array([0, Math.log(3)]);
      addon.softmax(x, 0, 1, 2, x, 0);
      expect(x[0]).toBeCloseTo(0.25, 6);
      expect(x[1]).toBeCloseTo(0.75, 6);
      expect(() => addon.softmax(x, 0, 1, 0, x, 0)).toThrow(/empty/);
      expect(() => addon.softmax(x, 0, 2, 2, new Float32Array(4), 0)).toThrow(/outside the buffer/);
      expect(() => addon.softmaxGrad(x, 0, x, 0, 1, 2, new Float32Array(2), 1)).toThrow(/outside the buffer/);
      const big = new Float32Array(8);
      expect(() => addon.softmax(big, 0, 1, 4, big, 2)).toThrow(/overlaps/);
    });
  });

  describe('causalAttention', () => {
    /** Per (batch, head) of [B, T, H, Dh] inputs: softmax(scale·q·kᵀ + causal mask)·v, float64. */
    const refAttention = (q: Float32Array, k: Float32Array, v: Float32Array, B: number, H: number, T: number, Dh: number, scale: number) => {
      const y = new Float64Array(B * T * H * Dh);
      const at = (b: number, t: number, h: number, d: number) => ((b * T + t) * H + h) * Dh + d;
      for (let b = 0; b < B; b++) {
        for (let h = 0; h < H; h++) {
          for (let i = 0; i < T; i++) {
            const s = new Float64Array(i + 1);
            let m = -Infinity;
            for (let j = 0; j <= i; j++) {
              let dot = 0;
              for (let d = 0; d < Dh; d++) dot += q[at(b, i, h, d)] * k[at(b, j, h, d)];
              s[j] = dot * scale;
              m = Math.max(m, s[j]);
            }
            let sum = 0;
            for (let j = 0; j <= i; j++) sum += s[j] = Math.exp(s[j] - m);
            for (let j = 0; j <= i; j++) for (let d = 0; d < Dh; d++) y[at(b, i, h, d)] += (s[j] / sum) * v[at(b, j, h, d)];
          }
        }
      }
      return y;
    };

    it('matches float64 on [B, T, H, Dh] layouts with block-straddling lengths; one thread gives the bits of two', () => {
      const initialThreads = addon.info().threads;
      try {
        for (const [B, H, T, Dh] of [[3, 1, 1, 4], [2, 3, 5, 3], [1, 4, 64, 8], [3, 2, 65, 16], [2, 1, 130, 32], [1, 2, 200, 64]]) {
          const n = B * H * T * Dh;
          const q = randomArray(n, T + 1);
          const k = randomArray(n, T + 2);
          const v = randomArray(n, T + 3);
          const scale = 1 / Math.sqrt(Dh);
          const run = (threads: number) => {
            addon.setThreads(threads);
            const y = new Float32Array(n);
            addon.causalAttention(q, 0, k, 0, v, 0, B, H, T, Dh, scale, y, 0);
            return y;
          };
          const one = run(1);
          const two = run(2);
          const ref = refAttention(q, k, v, B, H, T, Dh, scale);
          expect(maxRelativeError(two, ref, Array.from(ref, () => 1)), `[${B}, ${T}, ${H}, ${Dh}]`).toBeLessThan(1e-5);
          expect(Array.from(two)).toEqual(Array.from(one));
        }
      } finally {
        addon.setThreads(initialThreads);
      }
    });

    it('is causal: later keys and values do not change earlier outputs', () => {
      const [B, H, T, Dh] = [2, 2, 70, 8];
      const row = H * Dh;
      const n = B * T * row;
      const q = randomArray(n, 41);
      const k = randomArray(n, 42);
      const v = randomArray(n, 43);
      const y1 = new Float32Array(n);
      addon.causalAttention(q, 0, k, 0, v, 0, B, H, T, Dh, 0.5, y1, 0);
      const k2 = new Float32Array(k);
      const v2 = new Float32Array(v);
      for (let b = 0; b < B; b++) for (let i = 40 * row; i < T * row; i++) (k2[b * T * row + i] += 3), (v2[b * T * row + i] -= 2);
      const y2 = new Float32Array(n);
      addon.causalAttention(q, 0, k2, 0, v2, 0, B, H, T, Dh, 0.5, y2, 0);
      for (let b = 0; b < B; b++) {
        const first40 = (y: Float32Array) => Array.from(y.subarray(b * T * row, b * T * row + 40 * row));
        expect(first40(y2)).toEqual(first40(y1));
        expect(y2[b * T * row + 40 * row]).not.toBe(y1[b * T * row + 40 * row]);
      }
    });

    it('rejects bad arguments', () => {
      const a = new Float32Array(24);
      expect(() => addon.causalAttention(a, 0, a, 0, a, 0, 2, 1, 3, 4, 1, new Float32Array(23), 0)).toThrow(/outside the buffer/);
      expect(() => addon.causalAttention(a, 0, a, 0, a, 0, 1, 2, 3, 4, 1, a, 0)).toThrow(/overlaps/);
      expect(() => addon.causalAttention(a, 0, a, 0, a, 0, 2, 1, 3, 4, Number.NaN, new Float32Array(24), 0)).toThrow(/finite/);
    });
  });

  describe('causalAttentionTrain / causalAttentionGrad', () => {
    /** float64 reference: probabilities P [B·H, T, T] and, for an upstream dY, dQ, dK, dV. */
    const reference = (q: Float32Array, k: Float32Array, v: Float32Array, dy: Float32Array, B: number, H: number, T: number, Dh: number, scale: number) => {
      const at = (b: number, t: number, h: number, d: number) => ((b * T + t) * H + h) * Dh + d;
      const n = B * T * H * Dh;
      const P = new Float64Array(B * H * T * T);
      const [dq, dk, dv] = [0, 1, 2].map(() => new Float64Array(n));
      for (let b = 0; b < B; b++) {
        for (let h = 0; h < H; h++) {
          const pp = (b * H + h) * T * T;
          for (let i = 0; i < T; i++) {
            let m = -Infinity;
            const s = new Float64Array(i + 1);
            for (let j = 0; j <= i; j++) {
              let dot = 0;
              for (let d = 0; d < Dh; d++) dot += q[at(b, i, h, d)] * k[at(b, j, h, d)];
              m = Math.max(m, (s[j] = dot * scale));
            }
            let sum = 0;
            for (let j = 0; j <= i; j++) sum += s[j] = Math.exp(s[j] - m);
            for (let j = 0; j <= i; j++) P[pp + i * T + j] = s[j] / sum;
          }
          for (let i = 0; i < T; i++) {
            const dP = new Float64Array(i + 1);
            let r = 0;
            for (let j = 0; j <= i; j++) {
              for (let d = 0; d < Dh; d++) dP[j] += dy[at(b, i, h, d)] * v[at(b, j, h, d)];
              r += dP[j] * P[pp + i * T + j];
            }
            for (let j = 0; j <= i; j++) {
              const p = P[pp + i * T + j];
              const dS = p * (dP[j] - r) * scale;
              for (let d = 0; d < Dh; d++) {
                dv[at(b, j, h, d)] += p * dy[at(b, i, h, d)];
                dq[at(b, i, h, d)] += dS * k[at(b, j, h, d)];
                dk[at(b, j, h, d)] += dS * q[at(b, i, h, d)];
              }
            }
          }
        }
      }
      return { P, dq, dk, dv };
    };

    it('match float64 (probabilities, dQ, dK, dV) across block-straddling lengths; the forward equals causalAttention; one thread gives the bits of two', () => {
      const initialThreads = addon.info().threads;
      try {
        for (const [B, H, T, Dh] of [[2, 3, 5, 3], [3, 2, 65, 16], [1, 2, 130, 32]]) {
          const n = B * H * T * Dh;
          const [q, k, v, dy] = [1, 2, 3, 4].map((s) => randomArray(n, T * 10 + s));
          const scale = 1 / Math.sqrt(Dh);
          const run = (threads: number) => {
            addon.setThreads(threads);
            const y = new Float32Array(n);
            const P = new Float32Array(B * H * T * T);
            addon.causalAttentionTrain(B, H, T, Dh, scale, q, 0, k, 0, v, 0, y, 0, P, 0);
            const [dq, dk, dv] = [0, 1, 2].map(() => new Float32Array(n));
            addon.causalAttentionGrad(B, H, T, Dh, scale, q, 0, k, 0, v, 0, P, 0, dy, 0, dq, 0, dk, 0, dv, 0);
            return { y, P, dq, dk, dv };
          };
          const one = run(1);
          const two = run(2);
          const ref = reference(q, k, v, dy, B, H, T, Dh, scale);
          const label = `[${B}, ${T}, ${H}, ${Dh}]`;
          expect(maxRelativeError(two.P, ref.P, Array.from(ref.P, () => 1)), `${label} P`).toBeLessThan(1e-5);
          for (const g of ['dq', 'dk', 'dv'] as const) {
            expect(maxRelativeError(two[g], ref[g], Array.from(ref[g], () => 1)), `${label} ${g}`).toBeLessThan(1e-4);
            expect(Array.from(two[g]), `${label} ${g}: one thread vs two`).toEqual(Array.from(one[g]));
          }
          const y = new Float32Array(n);
          addon.causalAttention(q, 0, k, 0, v, 0, B, H, T, Dh, scale, y, 0);
          expect(maxRelativeError(two.y, y, Array.from(y, () => 1)), `${label} Y`).toBeLessThan(1e-6);
          // above the diagonal P is exactly zero
          for (let x = 0; x < B * H; x++) for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) expect(two.P[(x * T + i) * T + j]).toBe(0);
        }
      } finally {
        addon.setThreads(initialThreads);
      }
    });

    it('reject bad arguments', () => {
      const a = new Float32Array(24);
      const P = new Float32Array(2 * 9);
      const y = new Float32Array(24);
      expect(() => addon.causalAttentionTrain(2, 1, 3, 4, 1, a, 0, a, 0, a, 0, y, 0, new Float32Array(17), 0)).toThrow(/causalAttentionTrain P: .*outside the buffer/);
      expect(() => addon.causalAttentionTrain(2, 1, 3, 4, 1, a, 0, a, 0, a, 0, a, 0, P, 0)).toThrow(/overlaps/);
      expect(() => addon.causalAttentionTrain(2, 1, 3, 4, Number.NaN, a, 0, a, 0, a, 0, y, 0, P, 0)).toThrow(/finite/);
      const [dq, dk] = [new Float32Array(24), new Float32Array(24)];
      expect(() => addon.causalAttentionGrad(2, 1, 3, 4, 1, a, 0, a, 0, a, 0, P, 0, a, 0, dq, 0, dk, 0, dq, 0)).toThrow(/outputs overlap/);
      expect(() => addon.causalAttentionGrad(2, 1, 3, 4, 1, a, 0, a, 0, a, 0, P, 0, a, 0, dq, 0, dk, 0, a, 0)).toThrow(/overlaps an input/);
      expect(() => addon.causalAttentionGrad(2, 1, 3, 4, 1, a, 0, a, 0, a, 0, P, 0)).toThrow(/expected 21 arguments/);
    });
  });

  it('splits large elementwise work across threads with the same results as one thread', () => {
    const initialThreads = addon.info().threads;
    try {
      const rows = 2100;
      const cols = 1024; // 2.15M elements: above the per-thread grain, so 2 threads split it
      const x = randomArray(rows * cols, 21).map((v, i) => v * 2 + (i % 7));
      const dy = randomArray(rows * cols, 22);
      const gamma = randomArray(cols, 23);
      const bias = randomArray(cols, 24);
      const runAll = (threads: number) => {
        addon.setThreads(threads);
        const g = new Float32Array(x.length);
        addon.gelu(x, 0, g, 0, x.length);
        const gg = new Float32Array(x.length);
        addon.geluGrad(x, 0, dy, 0, gg, 0, x.length);
        const ge = new Float32Array(x.length);
        addon.geluErf(x, 0, ge, 0, x.length);
        const gge = new Float32Array(x.length);
        addon.geluErfGrad(x, 0, dy, 0, gge, 0, x.length);
        const sm = new Float32Array(x.length);
        addon.softmax(x, 0, rows, cols, sm, 0);
        const smg = new Float32Array(x.length);
        addon.softmaxGrad(sm, 0, dy, 0, rows, cols, smg, 0);
        const y = new Float32Array(x.length);
        const stats = new Float32Array(2 * rows);
        addon.layerNorm(x, 0, rows, cols, gamma, 0, bias, 0, 1e-5, y, 0, stats, 0);
        const dx = new Float32Array(x.length);
        const dgamma = new Float32Array(cols);
        const dbeta = new Float32Array(cols);
        addon.layerNormGrad(x, 0, dy, 0, rows, cols, gamma, 0, stats, 0, dx, 0, dgamma, 0, dbeta, 0);
        const ba = new Float32Array(x);
        addon.biasAct(ba, 0, rows, cols, 1, bias, 0, cols, 0, null, 0, 0);
        return { g, gg, ge, gge, sm, smg, y, dx, dgamma, dbeta, ba };
      };
      const one = runAll(1);
      const two = runAll(2);
      for (const key of ['g', 'gg', 'ge', 'gge', 'sm', 'smg', 'y', 'dx', 'ba'] as const) {
        let differing = 0;
        for (let i = 0; i < one[key].length; i++) if (!Object.is(one[key][i], two[key][i])) differing++;
        expect(differing, key).toBe(0); // row-wise kernels: bit-identical
      }
      // Column sums are combined from per-thread partials: equal up to summation order.
      expect(maxRelativeError(two.dgamma, one.dgamma, Array.from(one.dgamma, (v) => Math.max(Math.abs(v), 1)))).toBeLessThan(1e-5);
      expect(maxRelativeError(two.dbeta, one.dbeta, Array.from(one.dbeta, (v) => Math.max(Math.abs(v), 1)))).toBeLessThan(1e-5);
      // and the column sums are right: dbeta = Σ_rows dy
      const dbetaRef = new Float64Array(cols);
      for (let i = 0; i < dy.length; i++) dbetaRef[i % cols] += dy[i];
      expect(maxRelativeError(two.dbeta, dbetaRef, Array.from(dbetaRef, (v) => Math.max(Math.abs(v), 1)))).toBeLessThan(1e-4);
    } finally {
      addon.setThreads(initialThreads);
    }
  });

  describe('layerNorm', () => {
    const rows = 4;
    const cols = 6;
    const x = randomArray(rows * cols, 11).map((v, i) => v * 3 + (i % cols)); // non-zero means
    const gamma = randomArray(cols, 12).map((v) => v + 1);
    const beta = randomArray(cols, 13);

    it('matches the float64 reference and stores mean/rstd', () => {
      for (const [g, b] of [
        [gamma, beta],
        [gamma, null],
        [null, null],
      ] as const) {
        const y = new Float32Array(rows * cols);
        const stats = new Float32Array(2 * rows);
        addon.layerNorm(x, 0, rows, cols, g, 0, b, 0, 1e-5, y, 0, stats, 0);
        const ref = refLayerNorm(x, cols, g, b, 1e-5);
        expect(maxRelativeError(y, ref.y, ref.y.map((v) => Math.max(Math.abs(v), 1)))).toBeLessThan(1e-5);
        for (let r = 0; r < rows; r++) {
          expect(stats[2 * r]).toBeCloseTo(ref.mean[r], 5);
          expect(stats[2 * r + 1]).toBeCloseTo(ref.rstd[r], 4);
        }
      }
    });

    it('gradients match finite differences of the float64 reference', () => {
      const dy = randomArray(rows * cols, 14);
      const y = new Float32Array(rows * cols);
      const stats = new Float32Array(2 * rows);
      addon.layerNorm(x, 0, rows, cols, gamma, 0, beta, 0, 1e-5, y, 0, stats, 0);
      const dx = new Float32Array(rows * cols);
      const dgamma = new Float32Array(cols);
      const dbeta = new Float32Array(cols);
      addon.layerNormGrad(x, 0, dy, 0, rows, cols, gamma, 0, stats, 0, dx, 0, dgamma, 0, dbeta, 0);
      const loss = (xs: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>) =>
        refLayerNorm(xs, cols, g, b, 1e-5).y.reduce((s, v, i) => s + v * dy[i], 0);
      const numeric = (arr: ArrayLike<number>, which: 0 | 1 | 2) =>
        Array.from(arr, (_, i) => {
          const h = 1e-4;
          const args = [Float64Array.from(x), Float64Array.from(gamma), Float64Array.from(beta)];
          args[which][i] += h;
          const up = loss(args[0], args[1], args[2]);
          args[which][i] -= 2 * h;
          const down = loss(args[0], args[1], args[2]);
          return (up - down) / (2 * h);
        });
      const scaleOf = (v: number[]) => v.map(() => 1);
      const nx = numeric(x, 0);
      const ng = numeric(gamma, 1);
      const nb = numeric(beta, 2);
      expect(maxRelativeError(dx, nx, scaleOf(nx))).toBeLessThan(1e-4);
      expect(maxRelativeError(dgamma, ng, scaleOf(ng))).toBeLessThan(1e-4);
      expect(maxRelativeError(dbeta, nb, scaleOf(nb))).toBeLessThan(1e-4);
    });

    it('rejects bad shapes and overlapping outputs', () => {
      const y = new Float32Array(rows * cols);
      const stats = new Float32Array(2 * rows);
      expect(() => addon.layerNorm(x, 0, rows, cols, new Float32Array(cols - 1), 0, null, 0, 1e-5, y, 0, stats, 0)).toThrow(
        /outside the buffer/,
      );
      expect(() => addon.layerNorm(x, 0, rows, 0, null, 0, null, 0, 1e-5, y, 0, stats, 0)).toThrow(/empty/);
      expect(() => addon.layerNorm(x, 0, rows, cols, null, 0, null, 0, -1, y, 0, stats, 0)).toThrow(/eps/);
      expect(() => addon.layerNorm(x, 0, rows, cols, null, 0, null, 0, 1e-5, y, 0, new Float32Array(rows), 0)).toThrow(
        /outside the buffer/,
      );
      const xy = new Float32Array(x);
      expect(() => addon.layerNorm(xy, 0, rows, cols, null, 0, null, 0, 1e-5, xy, 0, stats, 0)).toThrow(/overlap/);
    });
  });
});
