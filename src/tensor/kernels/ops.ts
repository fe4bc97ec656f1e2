/**
 * Fused GELU and LayerNorm ops for the GPT, with gradients.
 *
 * On wasm+native they run as single native kernels (2 threads) instead of the ~10 wasm kernels
 * (Pow, Tanh, Mul, Add, Mean, Sub, ...) that the composed versions cost per call; perf.md found
 * the GPT forward dominated by exactly those. On every other backend they fall back to composed
 * tfjs ops with the same maths (and autodiff gradients), so model code calls them unconditionally:
 *
 *   import { gelu, layerNorm } from '../tensor/kernels/ops.js';
 *   const h_BTF = gelu(tf.matMul(x_BTC, w_CF));          // nanoGPT new_gelu (tanh approximation)
 *   const y_BTC = layerNorm(x_BTC, ln_weight_C, ln_bias_C); // eps 1e-5 as torch.nn.LayerNorm
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon, NativeUnary, NativeUnaryGrad } from './native.js';
import { fillOutputs, heapOffset, sizeOf, wasmHeap, type WasmBackendLike } from './wasm_backend.js';

export const GELU_KERNEL = 'SaeboardGelu';
export const GELU_GRAD_KERNEL = 'SaeboardGeluGrad';
export const GELU_ERF_KERNEL = 'SaeboardGeluErf';
export const GELU_ERF_GRAD_KERNEL = 'SaeboardGeluErfGrad';
export const SOFTMAX_KERNEL = 'SaeboardSoftmax';
export const SOFTMAX_GRAD_KERNEL = 'SaeboardSoftmaxGrad';
export const CAUSAL_ATTENTION_KERNEL = 'SaeboardCausalAttention';
export const CAUSAL_ATTENTION_TRAIN_KERNEL = 'SaeboardCausalAttentionTrain';
export const CAUSAL_ATTENTION_GRAD_KERNEL = 'SaeboardCausalAttentionGrad';
export const LAYER_NORM_KERNEL = 'SaeboardLayerNorm';
export const LAYER_NORM_GRAD_KERNEL = 'SaeboardLayerNormGrad';
export const ADAM_KERNEL = 'SaeboardAdam';
const ALL_KERNELS = [GELU_KERNEL, GELU_GRAD_KERNEL, GELU_ERF_KERNEL, GELU_ERF_GRAD_KERNEL, SOFTMAX_KERNEL, SOFTMAX_GRAD_KERNEL, CAUSAL_ATTENTION_KERNEL, CAUSAL_ATTENTION_TRAIN_KERNEL, CAUSAL_ATTENTION_GRAD_KERNEL, LAYER_NORM_KERNEL, LAYER_NORM_GRAD_KERNEL, ADAM_KERNEL];

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_CUBIC = 0.044715;

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: WasmBackendLike;
  attrs: tf.NamedAttrMap;
}

function input(args: KernelArgs, name: string): tf.TensorInfo {
  const t = args.inputs[name];
  if (!t) throw new Error(`missing input "${name}"`);
  if (t.dtype !== 'float32') throw new Error(`input "${name}" must be float32, got ${t.dtype}`);
  return t;
}

function optionalInput(args: KernelArgs, name: string): tf.TensorInfo | undefined {
  return args.inputs[name] ? input(args, name) : undefined;
}

/** y = f(x) elementwise by a native function (the two GELUs). */
function unaryKernel(fn: NativeUnary): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const b = args.backend;
    const x = input(args, 'x');
    const out = b.makeOutput([...x.shape], 'float32');
    return fillOutputs(b, out, () => {
      const heap = wasmHeap(b);
      fn(heap, heapOffset(b, x), heap, heapOffset(b, out), sizeOf(x.shape));
    });
  };
}

/** dx = dy · f'(x) elementwise by a native function. */
function unaryGradKernel(fn: NativeUnaryGrad, what: string): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const b = args.backend;
    const x = input(args, 'x');
    const dy = input(args, 'dy');
    if (sizeOf(dy.shape) !== sizeOf(x.shape)) throw new Error(`${what} gradient: dy [${dy.shape}] does not match x [${x.shape}]`);
    const out = b.makeOutput([...x.shape], 'float32');
    return fillOutputs(b, out, () => {
      const heap = wasmHeap(b);
      fn(heap, heapOffset(b, x), heap, heapOffset(b, dy), heap, heapOffset(b, out), sizeOf(x.shape));
    });
  };
}

function makeKernels(addon: NativeAddon): tf.KernelConfig[] {
  const gelu = unaryKernel((...a) => addon.gelu(...a));
  const geluGrad = unaryGradKernel((...a) => addon.geluGrad(...a), 'gelu');
  const geluErf = unaryKernel((...a) => addon.geluErf(...a));
  const geluErfGrad = unaryGradKernel((...a) => addon.geluErfGrad(...a), 'gelu (erf)');
  const softmax: tf.KernelFunc = (raw) => {
    const args = raw as unknown as KernelArgs;
    const b = args.backend;
    const x = input(args, 'x');
    const cols = x.shape[x.shape.length - 1] ?? 1;
    const out = b.makeOutput([...x.shape], 'float32');
    return fillOutputs(b, out, () => {
      const heap = wasmHeap(b);
      addon.softmax(heap, heapOffset(b, x), sizeOf(x.shape) / cols, cols, heap, heapOffset(b, out));
    });
  };
  const softmaxGrad: tf.KernelFunc = (raw) => {
    const args = raw as unknown as KernelArgs;
    const b = args.backend;
    const y = input(args, 'y');
    const dy = input(args, 'dy');
    if (sizeOf(dy.shape) !== sizeOf(y.shape)) throw new Error(`softmax gradient: dy [${dy.shape}] does not match y [${y.shape}]`);
    const cols = y.shape[y.shape.length - 1] ?? 1;
    const out = b.makeOutput([...y.shape], 'float32');
    return fillOutputs(b, out, () => {
      const heap = wasmHeap(b);
      addon.softmaxGrad(heap, heapOffset(b, y), heap, heapOffset(b, dy), sizeOf(y.shape) / cols, cols, heap, heapOffset(b, out));
    });
  };
  /** q, k, v (and more inputs of q's shape) as one [B, T, d] shape with d = heads · Dh. */
  const attentionDims = (args: KernelArgs, names: string[]) => {
    const [q, ...rest] = names.map((name) => input(args, name));
    const heads = Number(args.attrs.heads);
    const [B, T, d] = q.shape;
    if (q.shape.length !== 3 || rest.some((t) => t.shape.join() !== q.shape.join()) || !(heads >= 1) || d % heads !== 0) {
      throw new Error(`causalAttention: ${names.join(', ')} must share one [B, T, d] shape with d divisible by ${heads} heads, got ${[q, ...rest].map((t) => `[${t.shape}]`).join(', ')}`);
    }
    return { tensors: [q, ...rest], B, T, d, heads, scale: Number(args.attrs.scale) };
  };
  const causalAttention: tf.KernelFunc = (raw) => {
    const args = raw as unknown as KernelArgs;
    const b = args.backend;
    const { tensors, B, T, d, heads, scale } = attentionDims(args, ['q', 'k', 'v']);
    const [q, k, v] = tensors;
    const y = b.makeOutput([B, T, d], 'float32');
    return fillOutputs(b, y, () => {
      const heap = wasmHeap(b);
      addon.causalAttention(heap, heapOffset(b, q), heap, heapOffset(b, k), heap, heapOffset(b, v), B, heads, T, d / heads, scale, heap, heapOffset(b, y));
    });
  };
  const causalAttentionTrain: tf.KernelFunc = (raw) => {
    const args = raw as unknown as KernelArgs;
    const b = args.backend;
    const { tensors, B, T, d, heads, scale } = attentionDims(args, ['q', 'k', 'v']);
    const y = b.makeOutput([B, T, d], 'float32');
    const p = b.makeOutput([B * heads, T, T], 'float32');
    return fillOutputs(b, [y, p], () => {
      const heap = wasmHeap(b);
      addon.causalAttentionTrain(B, heads, T, d / heads, scale, ...[...tensors, y, p].flatMap((t) => [heap, heapOffset(b, t)]));
    });
  };
  const causalAttentionGrad: tf.KernelFunc = (raw) => {
    const args = raw as unknown as KernelArgs;
    const b = args.backend;
    const { tensors, B, T, d, heads, scale } = attentionDims(args, ['q', 'k', 'v', 'dy']);
    const [q, k, v, dy] = tensors;
    const p = input(args, 'p');
    if (p.shape.join() !== [B * heads, T, T].join()) throw new Error(`causalAttention gradient: p has shape [${p.shape}], expected [${[B * heads, T, T]}]`);
    const outs = [0, 1, 2].map(() => b.makeOutput([B, T, d], 'float32'));
    return fillOutputs(b, outs, () => {
      const heap = wasmHeap(b);
      addon.causalAttentionGrad(B, heads, T, d / heads, scale, ...[q, k, v, p, dy, ...outs].flatMap((t) => [heap, heapOffset(b, t)]));
    });
  };
  const layerNorm: tf.KernelFunc = (raw) => {
    const args = raw as unknown as KernelArgs;
    const b = args.backend;
    const x = input(args, 'x');
    const gamma = optionalInput(args, 'gamma');
    const beta = optionalInput(args, 'beta');
    const cols = x.shape[x.shape.length - 1] ?? 1;
    for (const [name, t] of [['gamma', gamma], ['beta', beta]] as const) {
      if (t && sizeOf(t.shape) !== cols) throw new Error(`layerNorm: ${name} has shape [${t.shape}], expected [${cols}]`);
    }
    const rows = sizeOf(x.shape) / cols;
    const y = b.makeOutput([...x.shape], 'float32');
    const stats = b.makeOutput([rows, 2], 'float32');
    return fillOutputs(b, [y, stats], () => {
      const heap = wasmHeap(b);
      addon.layerNorm(
        heap,
        heapOffset(b, x),
        rows,
        cols,
        gamma ? heap : null,
        gamma ? heapOffset(b, gamma) : 0,
        beta ? heap : null,
        beta ? heapOffset(b, beta) : 0,
        Number(args.attrs.epsilon ?? 1e-5),
        heap,
        heapOffset(b, y),
        heap,
        heapOffset(b, stats),
      );
    });
  };
  const layerNormGrad: tf.KernelFunc = (raw) => {
    const args = raw as unknown as KernelArgs;
    const b = args.backend;
    const x = input(args, 'x');
    const dy = input(args, 'dy');
    const stats = input(args, 'stats');
    const gamma = optionalInput(args, 'gamma');
    const cols = x.shape[x.shape.length - 1] ?? 1;
    const rows = sizeOf(x.shape) / cols;
    if (sizeOf(dy.shape) !== sizeOf(x.shape)) throw new Error(`layerNorm gradient: dy [${dy.shape}] does not match x [${x.shape}]`);
    const dx = b.makeOutput([...x.shape], 'float32');
    const dgamma = b.makeOutput([cols], 'float32');
    const dbeta = b.makeOutput([cols], 'float32');
    return fillOutputs(b, [dx, dgamma, dbeta], () => {
      const heap = wasmHeap(b);
      addon.layerNormGrad(
        heap,
        heapOffset(b, x),
        heap,
        heapOffset(b, dy),
        rows,
        cols,
        gamma ? heap : null,
        gamma ? heapOffset(b, gamma) : 0,
        heap,
        heapOffset(b, stats),
        heap,
        heapOffset(b, dx),
        heap,
        heapOffset(b, dgamma),
        heap,
        heapOffset(b, dbeta),
      );
    });
  };
  const adam: tf.KernelFunc = (raw) => {
    const args = raw as unknown as KernelArgs;
    const b = args.backend;
    const p = input(args, 'p');
    const g = input(args, 'g');
    const m = input(args, 'm');
    const v = input(args, 'v');
    const n = sizeOf(p.shape);
    for (const [name, t] of [['g', g], ['m', m], ['v', v]] as const) {
      if (sizeOf(t.shape) !== n) throw new Error(`adamUpdate: ${name} has shape [${t.shape}], expected [${p.shape}]`);
    }
    const a = args.attrs;
    const hyper = new Float64Array([a.beta1, a.beta2, a.epsilon, a.stepSize, a.bc2Sqrt, a.decay].map(Number));
    const pOut = b.makeOutput([...p.shape], 'float32');
    const mOut = b.makeOutput([...p.shape], 'float32');
    const vOut = b.makeOutput([...p.shape], 'float32');
    return fillOutputs(b, [pOut, mOut, vOut], () => {
      const heap = wasmHeap(b);
      addon.adam(
        heap, heapOffset(b, p), heap, heapOffset(b, g), heap, heapOffset(b, m), heap, heapOffset(b, v), n, hyper,
        heap, heapOffset(b, pOut), heap, heapOffset(b, mOut), heap, heapOffset(b, vOut),
      );
    });
  };
  return [
    { kernelName: ADAM_KERNEL, backendName: 'wasm', kernelFunc: adam },
    { kernelName: GELU_KERNEL, backendName: 'wasm', kernelFunc: gelu },
    { kernelName: GELU_GRAD_KERNEL, backendName: 'wasm', kernelFunc: geluGrad },
    { kernelName: GELU_ERF_KERNEL, backendName: 'wasm', kernelFunc: geluErf },
    { kernelName: GELU_ERF_GRAD_KERNEL, backendName: 'wasm', kernelFunc: geluErfGrad },
    { kernelName: SOFTMAX_KERNEL, backendName: 'wasm', kernelFunc: softmax },
    { kernelName: SOFTMAX_GRAD_KERNEL, backendName: 'wasm', kernelFunc: softmaxGrad },
    { kernelName: CAUSAL_ATTENTION_KERNEL, backendName: 'wasm', kernelFunc: causalAttention },
    { kernelName: CAUSAL_ATTENTION_TRAIN_KERNEL, backendName: 'wasm', kernelFunc: causalAttentionTrain },
    { kernelName: CAUSAL_ATTENTION_GRAD_KERNEL, backendName: 'wasm', kernelFunc: causalAttentionGrad },
    { kernelName: LAYER_NORM_KERNEL, backendName: 'wasm', kernelFunc: layerNorm },
    { kernelName: LAYER_NORM_GRAD_KERNEL, backendName: 'wasm', kernelFunc: layerNormGrad },
  ];
}

/**
 * Registers (addon given) or removes (null) the native GELU/LayerNorm kernels for wasm. Returns
 * the op names that now run natively.
 */
export function installNativeOps(addon: NativeAddon | null): string[] {
  for (const name of ALL_KERNELS) {
    if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
  }
  if (!addon) return [];
  for (const config of makeKernels(addon)) tf.registerKernel(config);
  return ['Gelu', 'GeluErf', 'Softmax', 'CausalAttention', 'LayerNorm', 'Adam'];
}

function nativeKernelActive(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) != null;
}

// ---------------------------------------------------------------------------------------------
// GELU
// ---------------------------------------------------------------------------------------------

/** Composed GELU (tanh approximation) on any backend; `x*x*x` because wasm Pow is slow. */
export function geluComposed(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), GELU_CUBIC)), SQRT_2_OVER_PI);
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
  });
}

/** A differentiable op over a native forward kernel and its native gradient kernel. */
function nativeUnaryOp(kernel: string, gradKernel: string) {
  return tf.customGrad((x, save) => {
    const xT = x as tf.Tensor;
    (save as tf.GradSaveFunc)([xT]);
    const value = tf.engine().runKernel(kernel, { x: xT }, {}) as tf.Tensor;
    return {
      value,
      gradFunc: (dy, saved) => [tf.engine().runKernel(gradKernel, { x: saved[0], dy: dy as tf.Tensor }, {}) as tf.Tensor],
    };
  });
}

const geluNative = nativeUnaryOp(GELU_KERNEL, GELU_GRAD_KERNEL);
const geluErfNative = nativeUnaryOp(GELU_ERF_KERNEL, GELU_ERF_GRAD_KERNEL);

/**
 * GELU, tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) — nanoGPT's `new_gelu`,
 * PyTorch's gelu(approximate='tanh'). Differentiable; native on wasm+native.
 */
export function gelu<T extends tf.Tensor>(x: T): T {
  if (x.dtype !== 'float32') throw new Error(`gelu: expected a float32 tensor, got ${x.dtype}`);
  return (nativeKernelActive(GELU_KERNEL) ? geluNative(x) : geluComposed(x)) as T;
}

/** Composed exact GELU on any backend: 0.5·x·(1 + erf(x/√2)) (tfjs' Erf). */
export function geluErfComposed(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)));
}

/**
 * GELU, exact form: x·Φ(x) = 0.5·x·(1 + erf(x/√2)) — PyTorch's default F.gelu and the real
 * Othello-GPT's activation. Differentiable; on wasm+native one native kernel (erfc to ~1e-7
 * relative) instead of the five wasm kernels of the composed form.
 */
export function geluErf<T extends tf.Tensor>(x: T): T {
  if (x.dtype !== 'float32') throw new Error(`geluErf: expected a float32 tensor, got ${x.dtype}`);
  return (nativeKernelActive(GELU_ERF_KERNEL) ? geluErfNative(x) : geluErfComposed(x)) as T;
}

// ---------------------------------------------------------------------------------------------
// Softmax
// ---------------------------------------------------------------------------------------------

const softmaxNative = tf.customGrad((x, save) => {
  const y = tf.engine().runKernel(SOFTMAX_KERNEL, { x: x as tf.Tensor }, {}) as tf.Tensor;
  (save as tf.GradSaveFunc)([y]);
  return {
    value: y,
    gradFunc: (dy, saved) => [tf.engine().runKernel(SOFTMAX_GRAD_KERNEL, { y: saved[0], dy: dy as tf.Tensor }, {}) as tf.Tensor],
  };
});

/**
 * Softmax over the last axis, differentiable. On wasm+native one native pass forward and one
 * backward (dx = y·(dy − Σ dy·y)) instead of tfjs' Softmax plus the four kernels of its gradient;
 * entries more than 87 below their row's maximum (the causal mask's −1e9) are exactly 0 in both.
 */
export function softmax<T extends tf.Tensor>(x: T): T {
  if (x.rank < 1 || x.shape[x.rank - 1] === 0) throw new Error(`softmax: x must have a non-empty last axis, got shape [${x.shape}]`);
  if (x.dtype !== 'float32' || !nativeKernelActive(SOFTMAX_KERNEL)) return tf.softmax(x) as T;
  return softmaxNative(x) as T;
}

// ---------------------------------------------------------------------------------------------
// Causal attention
// ---------------------------------------------------------------------------------------------

/** Additive causal mask [T, T]: 0 on and below the diagonal, −1e9 above (exp underflows to exactly 0). */
export function causalMask(T: number): tf.Tensor2D {
  const m = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -1e9;
  return tf.tensor2d(m, [T, T]);
}

/** [B, T, H·Dh] → [H·B, T, Dh]: (head, batch) pairs as one batch axis. */
export function toHeads(x_BTd: tf.Tensor3D, heads: number): tf.Tensor3D {
  const [B, T, d] = x_BTd.shape;
  return x_BTd.reshape([B, T, heads, d / heads]).transpose([2, 0, 1, 3]).reshape([heads * B, T, d / heads]);
}

/** [H·B, T, Dh] → [B, T, H·Dh], head h in columns h·Dh..(h+1)·Dh. */
export function fromHeads(x_XTDh: tf.Tensor3D, heads: number): tf.Tensor3D {
  const [X, T, Dh] = x_XTDh.shape;
  const B = X / heads;
  return x_XTDh.reshape([heads, B, T, Dh]).transpose([1, 2, 0, 3]).reshape([B, T, heads * Dh]);
}

/** Composed causal attention on any backend (see causalAttention). */
export function causalAttentionComposed(q_BTd: tf.Tensor3D, k_BTd: tf.Tensor3D, v_BTd: tf.Tensor3D, heads: number, scale: number): tf.Tensor3D {
  return tf.tidy(() => {
    // scale q rather than the T×T scores: cheaper whenever T > Dh
    const scores = tf.matMul(tf.mul(toHeads(q_BTd, heads), scale), toHeads(k_BTd, heads), false, true);
    const probs = softmax(tf.add(scores, causalMask(q_BTd.shape[1])) as tf.Tensor3D);
    return fromHeads(tf.matMul(probs, toHeads(v_BTd, heads)), heads);
  });
}

/** True inside tf.grad / tf.variableGrads: a backward pass will follow. */
function recordingGradients(): boolean {
  return tf.engine().state.gradientDepth > 0;
}

/** Context lengths up to this train with the composed attention ops (see causalAttention). */
export const COMPOSED_TRAINING_MAX_T = 64;

/**
 * Whether causalAttention would run native kernels right now for context length T (see there):
 * the inference kernel, or while gradients are recorded the training pair, for T beyond one
 * 64-row block (within one there is no masked half to skip, and the composed ops were as fast).
 */
export function fusedCausalAttentionActive(T: number): boolean {
  if (!recordingGradients()) return nativeKernelActive(CAUSAL_ATTENTION_KERNEL);
  return T > COMPOSED_TRAINING_MAX_T && nativeKernelActive(CAUSAL_ATTENTION_TRAIN_KERNEL);
}

/**
 * The fused training path: the native forward keeps the probabilities [B·H, T, T] (what the
 * composed ops' autodiff keeps too) and the native backward gives dq, dk, dv from them, with the
 * heads read and written in place — no head transposes, scale, mask or softmax kernels.
 */
function causalAttentionTrainable(heads: number, scale: number) {
  return tf.customGrad((q, k, v, save) => {
    const [y, p] = tf.engine().runKernel(CAUSAL_ATTENTION_TRAIN_KERNEL, { q: q as tf.Tensor, k: k as tf.Tensor, v: v as tf.Tensor }, { heads, scale }) as tf.Tensor[];
    (save as tf.GradSaveFunc)([q as tf.Tensor, k as tf.Tensor, v as tf.Tensor, p]);
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const [sq, sk, sv, sp] = saved;
        return tf.engine().runKernel(CAUSAL_ATTENTION_GRAD_KERNEL, { q: sq, k: sk, v: sv, p: sp, dy: dy as tf.Tensor }, { heads, scale }) as tf.Tensor[];
      },
    };
  });
}

/**
 * Causal multi-head self-attention. q, k, v are [B, T, d] (the projections' output, head h in
 * columns h·Dh..(h+1)·Dh, Dh = d / heads); returns [B, T, d] in the same layout: per (batch,
 * head), softmax(scale·q·kᵀ + mask)·v with each query seeing keys up to its own position.
 *
 * On wasm+native, outside gradient recording (inference, activation extraction), one native
 * kernel reads the heads in place (no transposes), works block by block without forming the
 * [H·B, T, T] scores and skips the masked half of both products. While gradients are recorded
 * (training) a native forward also writes the probabilities, which its native backward uses
 * (causalAttentionTrainable): recomputing them in the backward cost more than it saved
 * (chess-small training step 1,190 → 1,389 ms when tried with the composed ops). Elsewhere the
 * composed ops.
 */
export function causalAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, heads: number, scale: number): tf.Tensor3D {
  if (q.rank !== 3 || k.shape.join() !== q.shape.join() || v.shape.join() !== q.shape.join()) {
    throw new Error(`causalAttention: q, k and v must share one [B, T, d] shape, got [${q.shape}], [${k.shape}], [${v.shape}]`);
  }
  if (!Number.isInteger(heads) || heads < 1 || q.shape[2] % heads !== 0) {
    throw new Error(`causalAttention: d = ${q.shape[2]} is not divisible into ${heads} heads`);
  }
  const float32 = [q, k, v].every((t) => t.dtype === 'float32');
  if (!float32 || !fusedCausalAttentionActive(q.shape[1])) return causalAttentionComposed(q, k, v, heads, scale);
  if (recordingGradients()) return causalAttentionTrainable(heads, scale)(q, k, v) as tf.Tensor3D;
  return tf.engine().runKernel(CAUSAL_ATTENTION_KERNEL, { q, k, v }, { heads, scale }) as tf.Tensor3D;
}

// ---------------------------------------------------------------------------------------------
// LayerNorm
// ---------------------------------------------------------------------------------------------

/** Composed LayerNorm over the last axis (biased variance, as torch) on any backend. */
export function layerNormComposed(x: tf.Tensor, gamma?: tf.Tensor, beta?: tf.Tensor, epsilon = 1e-5): tf.Tensor {
  return tf.tidy(() => {
    const axis = x.rank - 1;
    const mean = tf.mean(x, axis, true);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.mul(centered, centered), axis, true);
    let y = tf.mul(centered, tf.rsqrt(tf.add(variance, epsilon)));
    if (gamma) y = tf.mul(y, gamma);
    if (beta) y = tf.add(y, beta);
    return y;
  });
}

function layerNormGradOutputs(x: tf.Tensor, dy: tf.Tensor, gamma: tf.Tensor | undefined, stats: tf.Tensor): tf.Tensor[] {
  const inputs: tf.NamedTensorMap = { x, dy, stats };
  if (gamma) inputs.gamma = gamma;
  return tf.engine().runKernel(LAYER_NORM_GRAD_KERNEL, inputs, {}) as tf.Tensor[];
}

function makeLayerNormNative(epsilon: number, withGamma: boolean, withBeta: boolean) {
  return tf.customGrad((...args) => {
    const save = args.pop() as (ts: tf.Tensor[]) => void;
    const [x, ...params] = args as tf.Tensor[];
    const gamma = withGamma ? params[0] : undefined;
    const beta = withBeta ? params[withGamma ? 1 : 0] : undefined;
    const inputs: tf.NamedTensorMap = { x };
    if (gamma) inputs.gamma = gamma;
    if (beta) inputs.beta = beta;
    const [y, stats] = tf.engine().runKernel(LAYER_NORM_KERNEL, inputs, { epsilon }) as tf.Tensor[];
    save(gamma ? [x, stats, gamma] : [x, stats]);
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const [xs, statsS, gammaS] = saved;
        const [dx, dgamma, dbeta] = layerNormGradOutputs(xs, dy as tf.Tensor, gammaS, statsS);
        const grads = [dx];
        if (withGamma) grads.push(tf.reshape(dgamma, gamma!.shape));
        else dgamma.dispose();
        if (withBeta) grads.push(tf.reshape(dbeta, beta!.shape));
        else dbeta.dispose();
        return grads;
      },
    };
  });
}

const layerNormNativeCache = new Map<string, ReturnType<typeof makeLayerNormNative>>();

/**
 * LayerNorm over the last axis: (x − mean) / √(var + ε) · gamma + beta, with the biased variance
 * (torch.nn.LayerNorm; nanoGPT uses ε = 1e-5 and may omit beta). gamma/beta have the size of the
 * last axis. Differentiable in x, gamma and beta; native on wasm+native.
 */
export function layerNorm<T extends tf.Tensor>(x: T, gamma?: tf.Tensor, beta?: tf.Tensor, epsilon = 1e-5): T {
  if (x.rank < 1) throw new Error('layerNorm: x must have at least one axis');
  const cols = x.shape[x.rank - 1];
  for (const [name, t] of [['gamma', gamma], ['beta', beta]] as const) {
    if (t && t.size !== cols) throw new Error(`layerNorm: ${name} has shape [${t.shape}]; expected ${cols} elements (the last axis of x)`);
  }
  if (!nativeKernelActive(LAYER_NORM_KERNEL) || x.dtype !== 'float32' || cols === 0) {
    return layerNormComposed(x, gamma, beta, epsilon) as T;
  }
  const key = `${epsilon}|${gamma ? 1 : 0}|${beta ? 1 : 0}`;
  let op = layerNormNativeCache.get(key);
  if (!op) {
    op = makeLayerNormNative(epsilon, gamma != null, beta != null);
    layerNormNativeCache.set(key, op);
  }
  const args = [x, gamma, beta].filter((t): t is tf.Tensor => t != null);
  return op(...args) as T;
}

// ---------------------------------------------------------------------------------------------
// Adam / AdamW update
// ---------------------------------------------------------------------------------------------

export interface AdamHyper {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** lr / (1 − beta1^t) */
  stepSize: number;
  /** √(1 − beta2^t) */
  bc2Sqrt: number;
  /** AdamW decoupled weight decay factor 1 − lr·wd applied to p first; 1 (default) = none. */
  decay?: number;
}

/** The update as composed tfjs ops (any backend): torch.optim.Adam(W)'s order of operations. */
export function adamUpdateComposed(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, h: AdamHyper): { p: tf.Tensor; m: tf.Tensor; v: tf.Tensor } {
  return tf.tidy(() => {
    const m2 = tf.add(tf.mul(m, h.beta1), tf.mul(g, 1 - h.beta1));
    const v2 = tf.add(tf.mul(v, h.beta2), tf.mul(tf.square(g), 1 - h.beta2));
    const denom = tf.add(tf.div(tf.sqrt(v2), h.bc2Sqrt), h.epsilon);
    const decayed = h.decay !== undefined && h.decay !== 1 ? tf.mul(p, h.decay) : p;
    return { p: tf.sub(decayed, tf.mul(tf.div(m2, denom), h.stepSize)), m: m2, v: v2 };
  });
}

/**
 * One Adam(W) step for one parameter: returns new (p, m, v) tensors, which the optimizer assigns
 * to its variables (`p.assign(out.p)` etc., then disposes them):
 *   m' = β1·m + (1−β1)·g;  v' = β2·v + (1−β2)·g²;  p' = p·decay − stepSize · m' / (√v'/bc2Sqrt + ε)
 * On wasm+native this is one native pass (2 threads for large tensors) instead of ~10 wasm
 * kernels; elsewhere the same composed ops. Both round every operation to float32 in the same order,
 * so they agree bit for bit.
 */
export function adamUpdate(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, h: AdamHyper): { p: tf.Tensor; m: tf.Tensor; v: tf.Tensor } {
  for (const [name, t] of [['g', g], ['m', m], ['v', v]] as const) {
    if (t.size !== p.size) throw new Error(`adamUpdate: ${name} has shape [${t.shape}], expected [${p.shape}]`);
  }
  if (!nativeKernelActive(ADAM_KERNEL) || [p, g, m, v].some((t) => t.dtype !== 'float32')) {
    return adamUpdateComposed(p, g, m, v, h);
  }
  const attrs = { beta1: h.beta1, beta2: h.beta2, epsilon: h.epsilon, stepSize: h.stepSize, bc2Sqrt: h.bc2Sqrt, decay: h.decay ?? 1 };
  const [p2, m2, v2] = tf.engine().runKernel(ADAM_KERNEL, { p, g, m, v }, attrs) as tf.Tensor[];
  return { p: p2, m: m2, v: v2 };
}
