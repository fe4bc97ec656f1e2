/**
 * gelu() and layerNorm(): the composed versions (any backend) against float64 references, and the
 * native kernels (wasm+native) against the composed ones, values and gradients; no leaks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tensor/backend.js';
import { loadNative } from '../../src/tensor/kernels/native.js';
import {
  adamUpdate,
  adamUpdateComposed,
  causalAttention,
  causalAttentionComposed,
  CAUSAL_ATTENTION_GRAD_KERNEL,
  CAUSAL_ATTENTION_KERNEL,
  CAUSAL_ATTENTION_TRAIN_KERNEL,
  COMPOSED_TRAINING_MAX_T,
  gelu,
  geluComposed,
  geluErf,
  geluErfComposed,
  installNativeOps,
  layerNorm,
  layerNormComposed,
  LAYER_NORM_KERNEL,
  softmax,
  SOFTMAX_GRAD_KERNEL,
  SOFTMAX_KERNEL,
} from '../../src/tensor/kernels/ops.js';
import { maxRelativeError, randomArray, refGelu, refGeluErf, refGeluErfGrad, refGeluGrad, refLayerNorm } from './reference.js';

const native = loadNative();

beforeAll(async () => {
  await initBackend();
});

afterAll(() => {
  installNativeOps(native.addon); // leave the process as initBackend set it up
});

const unitScale = (v: ArrayLike<number>) => Array.from(v, (x) => Math.max(Math.abs(x), 1));

describe('composed ops (every backend)', () => {
  it('geluComposed matches the tanh-approximation formula and its derivative', () => {
    const data = randomArray(4000, 1).map((v) => v * 6);
    const x = tf.tensor(data);
    const y = geluComposed(x);
    const expected = Array.from(data, refGelu);
    expect(maxRelativeError(y.dataSync(), expected, unitScale(expected))).toBeLessThan(2e-6);
    const dx = tf.grad((t: tf.Tensor) => tf.sum(geluComposed(t)))(x);
    const expectedGrad = Array.from(data, refGeluGrad);
    expect(maxRelativeError(dx.dataSync(), expectedGrad, unitScale(expectedGrad))).toBeLessThan(1e-5);
    tf.dispose([x, y, dx]);
  });

  it('layerNormComposed matches the float64 reference', () => {
    const data = randomArray(5 * 8, 2).map((v, i) => v * 4 + (i % 3));
    const gamma = randomArray(8, 3);
    const beta = randomArray(8, 4);
    const y = layerNormComposed(tf.tensor(data, [5, 8]), tf.tensor(gamma), tf.tensor(beta));
    const ref = refLayerNorm(data, 8, gamma, beta, 1e-5);
    expect(maxRelativeError(y.dataSync(), ref.y, unitScale(ref.y))).toBeLessThan(1e-5);
    y.dispose();
  });
});

describe.skipIf(!native.addon)('native gelu/layerNorm kernels on wasm+native', () => {
  beforeAll(() => {
    installNativeOps(native.addon);
    expect(tf.getKernel(LAYER_NORM_KERNEL, tf.getBackend())).toBeTruthy();
  });

  it('gelu: same values and gradients as the composed op', () => {
    const x = tf.tensor(randomArray(3 * 7 * 11, 5).map((v) => v * 5), [3, 7, 11]);
    const w = tf.tensor(randomArray(3 * 7 * 11, 6), [3, 7, 11]);
    const f = (op: (t: tf.Tensor) => tf.Tensor) => (t: tf.Tensor) => tf.sum(tf.mul(op(t), w));
    const yNative = gelu(x);
    expect(yNative.shape).toEqual([3, 7, 11]);
    const yComposed = geluComposed(x);
    expect(maxRelativeError(yNative.dataSync(), yComposed.dataSync(), unitScale(yComposed.dataSync()))).toBeLessThan(5e-6);
    const gNative = tf.grad(f(gelu))(x);
    const gComposed = tf.grad(f(geluComposed))(x);
    expect(maxRelativeError(gNative.dataSync(), gComposed.dataSync(), unitScale(gComposed.dataSync()))).toBeLessThan(1e-5);
    tf.dispose([x, w, yNative, yComposed, gNative, gComposed]);
  });

  it('geluErf: native values and gradients match x·Φ(x) in float64 and the composed erf op', () => {
    const data = randomArray(4 * 9 * 13, 8).map((v) => v * 6);
    const x = tf.tensor(data, [4, 9, 13]);
    const w = tf.tensor(randomArray(data.length, 9), [4, 9, 13]);
    const f = (op: (t: tf.Tensor) => tf.Tensor) => (t: tf.Tensor) => tf.sum(tf.mul(op(t), w));
    const yNative = geluErf(x);
    expect(yNative.shape).toEqual([4, 9, 13]);
    const expected = Array.from(data, refGeluErf);
    expect(maxRelativeError(yNative.dataSync(), expected, unitScale(expected))).toBeLessThan(1e-6);
    const yComposed = geluErfComposed(x); // tfjs' Erf: ~1.5e-7 absolute
    expect(maxRelativeError(yNative.dataSync(), yComposed.dataSync(), unitScale(expected))).toBeLessThan(2e-6);
    const gNative = tf.grad(f(geluErf))(x);
    const wData = w.dataSync();
    const gExpected = Array.from(data, (v, i) => wData[i] * refGeluErfGrad(v));
    expect(maxRelativeError(gNative.dataSync(), gExpected, unitScale(gExpected))).toBeLessThan(1e-6);
    const gComposed = tf.grad(f(geluErfComposed))(x);
    expect(maxRelativeError(gNative.dataSync(), gComposed.dataSync(), unitScale(gExpected))).toBeLessThan(1e-5);
    tf.dispose([x, w, yNative, yComposed, gNative, gComposed]);
  });

  it('softmax: native values and gradients match tf.softmax; the causal mask gives exact zeros', () => {
    expect(tf.getKernel(SOFTMAX_KERNEL, tf.getBackend())).toBeTruthy();
    const [X, T] = [6, 17];
    const mask = tf.tensor2d(Array.from({ length: T * T }, (_, i) => (i % T > Math.floor(i / T) ? -1e9 : 0)), [T, T]);
    const x = tf.add(tf.tensor(randomArray(X * T * T, 12).map((v) => v * 4), [X, T, T]), mask);
    const w = tf.tensor(randomArray(X * T * T, 13), [X, T, T]);
    const f = (op: (t: tf.Tensor) => tf.Tensor) => (t: tf.Tensor) => tf.sum(tf.mul(op(t), w));
    const yNative = softmax(x);
    const yRef = tf.softmax(x);
    const yn = yNative.dataSync();
    expect(maxRelativeError(yn, yRef.dataSync(), Array.from(yn, () => 1))).toBeLessThan(1e-6);
    for (let i = 0; i < yn.length; i++) if (i % T > Math.floor(i / T) % T) expect(yn[i]).toBe(0);
    const gNative = tf.grad(f(softmax))(x);
    const gRef = tf.grad(f((t) => tf.softmax(t)))(x);
    expect(maxRelativeError(gNative.dataSync(), gRef.dataSync(), Array.from(yn, () => 1))).toBeLessThan(1e-5);
    expect(() => softmax(tf.zeros([2, 0]))).toThrow(/non-empty last axis/);
    const before = tf.memory().numTensors;
    tf.dispose([softmax(x), tf.grad(f(softmax))(x)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([mask, x, w, yNative, yRef, gNative, gRef]);
  });

  it('causalAttention: the fused kernels match the composed ops, forward and (training) gradients; no leaks', async () => {
    expect(tf.getKernel(CAUSAL_ATTENTION_KERNEL, tf.getBackend())).toBeTruthy();
    const [B, T, H, Dh] = [3, 70, 2, 16];
    const d = H * Dh;
    const [q, k, v, w] = [51, 52, 53, 54].map((seed) => tf.tensor3d(randomArray(B * T * d, seed), [B, T, d]));
    const scale = 1 / Math.sqrt(Dh);
    const yNative = causalAttention(q, k, v, H, scale);
    expect(yNative.shape).toEqual([B, T, d]);
    const yComposed = causalAttentionComposed(q, k, v, H, scale);
    const unit = Array.from({ length: B * T * d }, () => 1);
    expect(maxRelativeError(yNative.dataSync(), yComposed.dataSync(), unit)).toBeLessThan(1e-5);
    // inference runs the fused kernel; training (gradients recorded) the training kernel, which
    // keeps the probabilities, and its native gradient — no transposes or softmax kernels
    const kernelsOf = async (f: () => tf.TensorContainer) => (await tf.profile(f)).kernelNames;
    expect(await kernelsOf(() => causalAttention(q, k, v, H, scale))).toContain(CAUSAL_ATTENTION_KERNEL);
    const loss = (op: typeof causalAttention) => (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      tf.sum(tf.mul(op(a as tf.Tensor3D, b as tf.Tensor3D, c as tf.Tensor3D, H, scale), w));
    const training = await kernelsOf(() => tf.grads(loss(causalAttention))([q, k, v]));
    expect(training).toEqual(expect.arrayContaining([CAUSAL_ATTENTION_TRAIN_KERNEL, CAUSAL_ATTENTION_GRAD_KERNEL]));
    expect(training).not.toContain(CAUSAL_ATTENTION_KERNEL);
    expect(training).not.toContain('Transpose');
    expect(training).not.toContain(SOFTMAX_GRAD_KERNEL);
    // a context within one 64-row block trains on the composed ops (nothing masked to skip)
    const [qs, ks, vs] = [q, k, v].map((t) => t.slice([0, 0, 0], [B, COMPOSED_TRAINING_MAX_T, d]));
    const short = await kernelsOf(() => tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(causalAttention(a as tf.Tensor3D, b as tf.Tensor3D, c as tf.Tensor3D, H, scale)))([qs, ks, vs]));
    expect(short).not.toContain(CAUSAL_ATTENTION_TRAIN_KERNEL);
    expect(short).toContain(SOFTMAX_GRAD_KERNEL);
    tf.dispose([qs, ks, vs]);
    const gNative = tf.grads(loss(causalAttention))([q, k, v]);
    const gComposed = tf.grads(loss(causalAttentionComposed))([q, k, v]);
    for (let i = 0; i < 3; i++) expect(maxRelativeError(gNative[i].dataSync(), gComposed[i].dataSync(), unit), `gradient ${i}`).toBeLessThan(1e-5);
    // the same value under gradient recording as outside it
    const [yTrain] = (() => {
      let out: tf.Tensor | null = null;
      tf.grads((a: tf.Tensor) => {
        out = tf.keep(causalAttention(a as tf.Tensor3D, k, v, H, scale));
        return tf.sum(out);
      })([q]).forEach((g) => g.dispose());
      return [out! as tf.Tensor];
    })();
    expect(maxRelativeError(yTrain.dataSync(), yComposed.dataSync(), unit)).toBeLessThan(1e-5);
    yTrain.dispose();
    const odd = tf.zeros([B, T, d + 1]) as tf.Tensor3D;
    expect(() => causalAttention(q, odd, v, H, scale)).toThrow(/share one/);
    expect(() => causalAttention(odd, odd, odd, H, scale)).toThrow(/not divisible/);
    const before = tf.memory().numTensors;
    tf.dispose([causalAttention(q, k, v, H, scale), ...tf.grads(loss(causalAttention))([q, k, v])]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([q, k, v, w, odd, yNative, yComposed, ...gNative, ...gComposed]);
  });

  for (const variant of ['gamma+beta', 'gamma only', 'neither'] as const) {
    it(`layerNorm (${variant}): same values and gradients as the composed op`, () => {
      const [B, T, C] = [2, 5, 16];
      const x = tf.tensor(randomArray(B * T * C, 7).map((v, i) => v * 3 + (i % 5)), [B, T, C]);
      const gamma = variant === 'neither' ? undefined : tf.tensor(randomArray(C, 8).map((v) => v + 1));
      const beta = variant === 'gamma+beta' ? tf.tensor(randomArray(C, 9)) : undefined;
      const w = tf.tensor(randomArray(B * T * C, 10), [B, T, C]);
      const yNative = layerNorm(x, gamma, beta);
      const yComposed = layerNormComposed(x, gamma, beta);
      expect(maxRelativeError(yNative.dataSync(), yComposed.dataSync(), unitScale(yComposed.dataSync()))).toBeLessThan(1e-5);

      const params = [x, gamma, beta].filter((t): t is tf.Tensor => t != null);
      const lossWith = (op: typeof layerNormComposed) => (...ts: tf.Tensor[]) => {
        const g = gamma ? ts[1] : undefined;
        const b = beta ? ts[2] : undefined;
        return tf.sum(tf.mul(tf.square(op(ts[0], g, b)), w));
      };
      const gradsNative = tf.grads(lossWith(layerNorm))(params);
      const gradsComposed = tf.grads(lossWith(layerNormComposed))(params);
      expect(gradsNative.map((g) => g.shape)).toEqual(params.map((p) => p.shape));
      for (let i = 0; i < params.length; i++) {
        const ref = gradsComposed[i].dataSync();
        const scale = Array.from(ref, () => Math.max(1, ...Array.from(ref, Math.abs)));
        expect(maxRelativeError(gradsNative[i].dataSync(), ref, scale)).toBeLessThan(1e-4);
      }
      tf.dispose([x, w, yNative, yComposed, ...gradsNative, ...gradsComposed, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])]);
    });
  }

  it('leaks no tensors in forward or backward, and checks parameter shapes', () => {
    const x = tf.tensor(randomArray(4 * 8, 11), [4, 8]);
    const gamma = tf.ones([8]);
    const beta = tf.zeros([8]);
    const run = () => {
      const [dx, dg, db] = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(gelu(layerNorm(a, g, b))))([x, gamma, beta]);
      tf.dispose([dx, dg, db]);
      tf.dispose([gelu(x), geluErf(x), layerNorm(x, gamma, beta)]);
      tf.dispose(tf.grad((a: tf.Tensor) => tf.sum(geluErf(a)))(x));
    };
    run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) run();
    expect(tf.memory().numTensors).toBe(before);
    const badGamma = tf.ones([7]);
    expect(() => layerNorm(x, badGamma)).toThrow(/gamma has shape \[7\]; expected 8 elements/);
    tf.dispose([x, gamma, beta, badGamma]);
  });
});

describe('adamUpdate', () => {
  const n = 3000;
  const h = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, stepSize: 1e-3 / (1 - 0.9 ** 3), bc2Sqrt: Math.sqrt(1 - 0.999 ** 3) };
  const make = () => ({
    p: tf.tensor(randomArray(n, 61), [30, 100]),
    g: tf.tensor(randomArray(n, 62).map((x) => x * 1e-2), [30, 100]),
    m: tf.tensor(randomArray(n, 63).map((x) => x * 1e-3), [30, 100]),
    v: tf.tensor(randomArray(n, 64).map((x) => x * x * 1e-5), [30, 100]),
  });

  it('composed update matches torch.optim.Adam/AdamW computed in float64 (hand-written)', () => {
    const { p, g, m, v } = make();
    for (const decay of [1, 1 - 1e-3 * 0.1]) {
      const out = adamUpdateComposed(p, g, m, v, { ...h, decay });
      const [pd, gd, md, vd] = [p, g, m, v].map((t) => t.dataSync());
      const got = out.p.dataSync();
      const expected = Array.from(pd, (p0, i) => {
        const m2 = 0.9 * md[i] + 0.1 * gd[i];
        const v2 = 0.999 * vd[i] + 0.001 * gd[i] ** 2;
        return p0 * decay - h.stepSize * (m2 / (Math.sqrt(v2) / h.bc2Sqrt + h.epsilon));
      });
      expect(maxRelativeError(got, expected, unitScale(expected))).toBeLessThan(1e-6);
      tf.dispose([out.p, out.m, out.v]);
    }
    tf.dispose([p, g, m, v]);
  });

  it.skipIf(!native.addon)('native kernel agrees with the composed ops bit for bit, and leaks nothing', () => {
    installNativeOps(native.addon);
    const { p, g, m, v } = make();
    for (const decay of [1, 0.9999]) {
      const before = tf.memory().numTensors;
      const a = adamUpdate(p, g, m, v, { ...h, decay });
      const b = adamUpdateComposed(p, g, m, v, { ...h, decay });
      for (const k of ['p', 'm', 'v'] as const) {
        expect(a[k].shape).toEqual([30, 100]);
        const x = a[k].dataSync();
        const y = b[k].dataSync();
        let differing = 0;
        for (let i = 0; i < n; i++) if (!Object.is(x[i], y[i])) differing++;
        expect(differing, k).toBe(0);
      }
      tf.dispose([a.p, a.m, a.v, b.p, b.m, b.v]);
      expect(tf.memory().numTensors).toBe(before);
    }
    expect(() => adamUpdate(p, tf.zeros([3]), m, v, h)).toThrow(/g has shape \[3\]/);
    tf.dispose([p, g, m, v]);
  });

  it.skipIf(!native.addon)('addon rejects bad hyper-parameters and wrong aliasing', () => {
    const a = new Float32Array(8);
    const b = new Float32Array(8);
    const c = new Float32Array(8);
    const d = new Float32Array(8);
    const hyper = new Float64Array([0.9, 0.999, 1e-8, 1e-3, 0.5, 1]);
    const addon = native.addon!;
    const [e, f, k] = [new Float32Array(8), new Float32Array(8), new Float32Array(8)];
    expect(() => addon.adam(a, 0, b, 0, c, 0, d, 0, 8, hyper, e, 0, f, 0, k, 0)).not.toThrow();
    expect(() => addon.adam(a, 0, b, 0, c, 0, d, 0, 8, hyper, a, 0, f, 0, k, 0)).toThrow(/overlaps an input/); // no in-place
    expect(() => addon.adam(a, 0, b, 0, c, 0, d, 0, 8, new Float64Array(5), e, 0, f, 0, k, 0)).toThrow(/hyper-parameters/);
    expect(() => addon.adam(a, 0, b, 0, c, 0, d, 0, 8, new Float64Array([0.9, 0.999, 1e-8, 1e-3, 0, 1]), e, 0, f, 0, k, 0)).toThrow(/bc2Sqrt/);
    expect(() => addon.adam(a, 0, b, 0, c, 0, d, 0, 8, hyper, e, 0, e, 0, k, 0)).toThrow(/outputs overlap each other/);
    expect(() => addon.adam(a, 0, b, 0, c, 0, d, 0, 8, hyper, e, 1, f, 0, k, 0)).toThrow(/outside the buffer/);
    expect(() => addon.adam(a, 0, b, 0, c, 0, d, 0, 9, hyper, e, 0, f, 0, k, 0)).toThrow(/outside the buffer/);
  });
});
