/**
 * The BatchMatMul/_FusedMatMul kernel sets on the real tfjs wasm backend: each set ("native" when
 * the addon is built, and the pure-JS fallback "js") against a float64 reference for every
 * transpose combination, odd shapes, broadcast batch dims and fused bias + activation; gradients
 * through both against the stock wasm kernels; no leaked tensors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tensor/backend.js';
import { installedMatMulKernels, installMatMulKernels, type MatMulKernelSet } from '../../src/tensor/kernels/matmul.js';
import { loadNative } from '../../src/tensor/kernels/native.js';
import { ACTIVATIONS, maxRelativeError, product, randomArray, refMatMul } from './reference.js';

const native = loadNative();
const sets: MatMulKernelSet[] = native.addon ? ['native', 'js'] : ['js'];
let initial: MatMulKernelSet = 'stock';

beforeAll(async () => {
  await initBackend();
  expect(tf.getBackend()).toBe('wasm'); // tfjs-node is not installed on the machines this runs on
  initial = installedMatMulKernels();
});

afterAll(() => {
  installMatMulKernels(initial, native.addon);
});

function use(set: MatMulKernelSet): void {
  installMatMulKernels(set, native.addon);
}

function tensor(shape: number[], seed: number): { t: tf.Tensor; data: Float32Array } {
  const data = randomArray(product(shape), seed);
  return { t: tf.tensor(data, shape), data };
}

const shapeCases: { name: string; a: number[]; b: number[] }[] = [
  { name: '1×1 · 1×1', a: [1, 1], b: [1, 1] },
  { name: '7×513 · 513×1', a: [7, 513], b: [513, 1] },
  { name: '1×7 · 7×513', a: [1, 7], b: [7, 513] },
  { name: '513×7 · 7×7', a: [513, 7], b: [7, 7] },
  { name: 'batched 3×(7×5 · 5×9)', a: [3, 7, 5], b: [3, 5, 9] },
  { name: 'batch folded into rows [2,3,7,5] · [5,4]', a: [2, 3, 7, 5], b: [5, 4] },
  { name: 'b broadcast over a batch [4,7,5] · [1,5,3]', a: [4, 7, 5], b: [1, 5, 3] },
  { name: 'a broadcast over b batch [7,5] · [4,5,3]', a: [7, 5], b: [4, 5, 3] },
  { name: 'both broadcast [2,1,3,5] · [1,3,5,2]', a: [2, 1, 3, 5], b: [1, 3, 5, 2] },
  { name: 'rank 3 vs rank 4 [3,1,4] · [2,3,4,6]', a: [3, 1, 4], b: [2, 3, 4, 6] },
];

/** Shapes as the operands must be stored for the transpose flags (transpose the last two axes). */
function stored(shape: number[], trans: boolean): number[] {
  if (!trans) return shape;
  const s = [...shape];
  [s[s.length - 2], s[s.length - 1]] = [s[s.length - 1], s[s.length - 2]];
  return s;
}

for (const set of sets) {
  describe(`${set} kernels`, () => {
    for (const c of shapeCases) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          it(`matMul ${c.name} transA=${transA} transB=${transB}`, () => {
            use(set);
            const aShape = stored(c.a, transA);
            const bShape = stored(c.b, transB);
            const a = tensor(aShape, 1 + aShape.length);
            const b = tensor(bShape, 100 + bShape.length);
            const before = tf.memory().numTensors;
            const out = tf.matMul(a.t, b.t, transA, transB);
            const ref = refMatMul(a.data, aShape, b.data, bShape, transA, transB);
            expect(out.shape).toEqual(ref.shape);
            expect(maxRelativeError(out.dataSync(), ref.values, ref.scale)).toBeLessThan(1e-4);
            out.dispose();
            expect(tf.memory().numTensors).toBe(before);
            a.t.dispose();
            b.t.dispose();
          });
        }
      }
    }

    const fusedCases = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'];
    for (const activation of fusedCases) {
      for (const [transA, transB] of [
        [false, false],
        [true, true],
        [false, true],
      ] as const) {
        it(`fused matMul + bias + ${activation} transA=${transA} transB=${transB}`, () => {
          use(set);
          const [batch, M, K, N] = [2, 7, 513, 5];
          const aShape = transA ? [batch, K, M] : [batch, M, K];
          const bShape = transB ? [batch, N, K] : [batch, K, N];
          const a = tensor(aShape, 3);
          const b = tensor(bShape, 4);
          const bias = tensor([N], 5);
          const prelu = tensor([N], 6);
          const out = tf.fused.matMul({
            a: a.t as tf.Tensor3D,
            b: b.t as tf.Tensor3D,
            transposeA: transA,
            transposeB: transB,
            bias: bias.t,
            activation: activation as tf.fused.Activation,
            preluActivationWeights: activation === 'prelu' ? prelu.t : undefined,
            leakyreluAlpha: 0.3,
          });
          const ref = refMatMul(a.data, aShape, b.data, bShape, transA, transB);
          const expected = ref.values.map((v, i) => ACTIVATIONS[activation](v + bias.data[i % N], 0.3, prelu.data[i % N]));
          // The scale of the pre-activation error is Σ|a||b| + |bias|; the activations are 1-Lipschitz.
          const scale = ref.scale.map((s, i) => s + Math.abs(bias.data[i % N]));
          expect(maxRelativeError(out.dataSync(), expected, scale)).toBeLessThan(1e-4);
          tf.dispose([out, a.t, b.t, bias.t, prelu.t]);
        });
      }
    }

    it('fused matMul with a bias that is not rank 1 ([1, N]) and a scalar bias', () => {
      use(set);
      const a = tensor([3, 4], 7);
      const b = tensor([4, 5], 8);
      const bias2d = tensor([1, 5], 9);
      const ref = refMatMul(a.data, [3, 4], b.data, [4, 5], false, false);
      const out = tf.fused.matMul({ a: a.t as tf.Tensor2D, b: b.t as tf.Tensor2D, bias: bias2d.t, activation: 'relu' });
      const expected = ref.values.map((v, i) => Math.max(v + bias2d.data[i % 5], 0));
      expect(maxRelativeError(out.dataSync(), expected, ref.scale.map((s) => s + 1))).toBeLessThan(1e-4);
      const scalar = tf.scalar(0.25);
      const out2 = tf.fused.matMul({ a: a.t as tf.Tensor2D, b: b.t as tf.Tensor2D, bias: scalar });
      expect(maxRelativeError(out2.dataSync(), ref.values.map((v) => v + 0.25), ref.scale.map((s) => s + 1))).toBeLessThan(1e-4);
      tf.dispose([out, out2, a.t, b.t, bias2d.t, scalar]);
    });

    it('gradients through matMul and fused matMul equal the stock kernels', () => {
      // tfjs core's matMul gradients do not reduce broadcast batch dims, so operands share a batch;
      // the fused product is 2-D because stock wasm adds a bias wrongly on batches > 1 (tfjs 4.22).
      const a = tensor([2, 6, 9], 21);
      const b = tensor([2, 9, 4], 22);
      const bias = tensor([4], 23);
      const w = tensor([2, 6, 4], 24);
      const loss = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
        tf.tidy(() => {
          // Both kernels, and every transpose form in the backward pass.
          const h2 = tf.fused.matMul({ a: tf.reshape(x, [12, 9]) as tf.Tensor2D, b: tf.reshape(tf.slice(y, [0, 0, 0], [1, 9, 4]), [9, 4]) as tf.Tensor2D, bias: z, activation: 'linear' });
          const h = tf.reshape(h2, [2, 6, 4]);
          const g = tf.matMul(h, x, true, false); // [2,4,9]
          const k = tf.matMul(x, tf.transpose(y, [0, 2, 1]), false, true); // [2,6,4]
          const m = tf.matMul(g, h, true, true); // [2,9,6]
          return tf.addN([tf.sum(tf.mul(tf.relu(h), w.t)), tf.sum(tf.square(g)), tf.sum(tf.mul(k, h)), tf.sum(m)]);
        });
      const gradsWith = (s: MatMulKernelSet) => {
        use(s);
        const grads = tf.grads(loss)([a.t, b.t, bias.t]);
        const values = grads.map((g) => Array.from(g.dataSync()));
        tf.dispose(grads);
        return values;
      };
      const stock = gradsWith('stock');
      const ours = gradsWith(set);
      for (let i = 0; i < stock.length; i++) {
        const scale = stock[i].map(() => Math.max(...stock[i].map(Math.abs)));
        expect(maxRelativeError(ours[i], stock[i], scale)).toBeLessThan(1e-4);
      }
      tf.dispose([a.t, b.t, bias.t, w.t]);
    });

    it('fused matMul without bias on a batch (relu) matches the reference', () => {
      use(set);
      const a = tensor([3, 5, 6], 41);
      const b = tensor([3, 6, 2], 42);
      const out = tf.fused.matMul({ a: a.t as tf.Tensor3D, b: b.t as tf.Tensor3D, activation: 'relu' });
      const ref = refMatMul(a.data, [3, 5, 6], b.data, [3, 6, 2], false, false);
      expect(maxRelativeError(out.dataSync(), ref.values.map((v) => Math.max(v, 0)), ref.scale)).toBeLessThan(1e-4);
      tf.dispose([out, a.t, b.t]);
    });

    it('a training step on the SAE shape pattern leaks no tensors', () => {
      use(set);
      const x = tf.tensor(randomArray(16 * 8, 31), [16, 8]);
      const wEnc = tf.variable(tf.tensor(randomArray(8 * 32, 32), [8, 32]));
      const bEnc = tf.variable(tf.zeros([32]));
      const wDec = tf.variable(tf.tensor(randomArray(32 * 8, 33), [32, 8]));
      const opt = tf.train.adam(1e-3);
      const step = () =>
        opt.minimize(() => {
          const f = tf.fused.matMul({ a: x as tf.Tensor2D, b: wEnc as tf.Tensor2D, bias: bEnc, activation: 'relu' });
          const xHat = tf.matMul(f, wDec);
          return tf.add(tf.mean(tf.sum(tf.square(tf.sub(x, xHat)), -1)), tf.mul(0.1, tf.mean(tf.sum(tf.abs(f), -1))));
        }, true) as tf.Scalar;
      const first = step();
      const firstLoss = first.dataSync()[0];
      first.dispose();
      const before = tf.memory().numTensors;
      let last = 0;
      for (let i = 0; i < 30; i++) {
        const l = step();
        last = l.dataSync()[0];
        l.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
      expect(last).toBeLessThan(firstLoss);
      tf.dispose([x, wEnc, bEnc, wDec]);
      opt.dispose();
    });

    it('shape errors are JS errors', () => {
      use(set);
      const a = tf.zeros([3, 4]);
      const b = tf.zeros([5, 6]);
      expect(() => tf.matMul(a, b)).toThrow(/inner shapes/);
      expect(() => tf.matMul(tf.zeros([2, 3, 4]), tf.zeros([3, 4, 2]))).toThrow();
      tf.dispose([a, b]);
    });
  });
}

describe('matMul gradient with broadcast batch dims', () => {
  it('sums the broadcast operand gradient, matching the 2-D formulation', () => {
    use(native.addon ? 'native' : 'js');
    const x = tensor([2, 3, 4], 51); // [B, T, C]
    const w = tensor([4, 5], 52); // [C, N], broadcast over B
    const r = tensor([2, 3, 5], 53);
    const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.matMul(a, b), r.t)))([x.t, w.t]);
    const [gx2, gw2] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.reshape(tf.matMul(tf.reshape(a, [6, 4]), b), [2, 3, 5]), r.t)),
    )([x.t, w.t]);
    expect(gx.shape).toEqual([2, 3, 4]);
    expect(gw.shape).toEqual([4, 5]);
    expect(maxRelativeError(gw.dataSync(), gw2.dataSync(), Array.from(gw2.dataSync(), () => 1))).toBeLessThan(1e-5);
    expect(maxRelativeError(gx.dataSync(), gx2.dataSync(), Array.from(gx2.dataSync(), () => 1))).toBeLessThan(1e-5);
    // A broadcast along a size-1 batch dim: [2,1,3,4]·[1,3,4,5]
    const a4 = tensor([2, 1, 3, 4], 54);
    const b4 = tensor([1, 3, 4, 5], 55);
    const [ga, gb] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.matMul(a, b)))([a4.t, b4.t]);
    expect(ga.shape).toEqual([2, 1, 3, 4]);
    expect(gb.shape).toEqual([1, 3, 4, 5]);
    // d Σ(A·B) / dB[0,j,k,n] = Σ_i Σ_t A[i,0,t,k] (A is shared by every j): check k = 0, all j, n.
    let expected = 0;
    for (let i = 0; i < 2; i++) for (let t = 0; t < 3; t++) expected += a4.data[i * 12 + t * 4];
    const gbData = gb.dataSync();
    for (const j of [0, 1, 2]) for (const n of [0, 4]) expect(gbData[j * 20 + n]).toBeCloseTo(expected, 5);
    tf.dispose([x.t, w.t, r.t, gx, gw, gx2, gw2, a4.t, b4.t, ga, gb]);
  });
});
