/**
 * The GPT's building blocks as plain functions over tensors, so a fused backend kernel can replace
 * any one of them without touching the model file. All take and return 2-D [N, features] tensors
 * (N = batch·time), the layout the matmul kernels are fastest on.
 */
import { tf } from '../tensor/backend.js';
import {
  causalAttention as causalAttentionKernel,
  causalMask,
  fromHeads,
  fusedCausalAttentionActive,
  gelu as geluTanhKernel,
  geluErf as geluErfKernel,
  layerNorm as layerNormKernel,
  softmax as softmaxKernel,
  toHeads,
} from '../tensor/kernels/ops.js';
import type { Activation } from './config.js';

/**
 * A variable that owns its data: tf.variable(t) shares t's buffer and leaves t alive, so without
 * the tidy the initial tensor would keep the weights in memory after the variable is disposed.
 */
export function ownedVariable(init: () => tf.Tensor, trainable = true): tf.Variable {
  return tf.tidy(() => tf.variable(init(), trainable));
}

/** x @ w (+ b), with the bias fused into the matmul kernel. */
export function linear(x_NI: tf.Tensor2D, w_IO: tf.Tensor2D, b_O?: tf.Tensor1D): tf.Tensor2D {
  return (b_O ? tf.fused.matMul({ a: x_NI, b: w_IO, bias: b_O }) : tf.matMul(x_NI, w_IO)) as tf.Tensor2D;
}

/**
 * LayerNorm over the last axis (biased variance, as torch). A single native kernel on
 * wasm+native, composed tfjs ops elsewhere (src/tensor/kernels/ops.ts).
 */
export function layerNorm(x_ND: tf.Tensor2D, w_D: tf.Tensor1D, b_D: tf.Tensor1D | undefined, eps: number): tf.Tensor2D {
  return layerNormKernel(x_ND, w_D, b_D, eps);
}

/** `gelu_new` (tanh approximation) or the exact erf GELU; each one native kernel on wasm+native. */
export function gelu(x: tf.Tensor2D, kind: Activation): tf.Tensor2D {
  return kind === 'gelu_new' ? geluTanhKernel(x) : geluErfKernel(x);
}

/** Attention probabilities: softmax over the last (key) axis; one native kernel each way on wasm+native. */
export function softmax(scores_XTS: tf.Tensor3D): tf.Tensor3D {
  return softmaxKernel(scores_XTS);
}

/**
 * Causal multi-head self-attention on the projections' [B, T, d] outputs (heads side by side in
 * d), returning [B, T, d]: one fused native kernel on wasm+native (no head transposes, no
 * [H·B, T, T] scores, the masked half skipped), composed ops elsewhere.
 */
export function causalAttention(q_BTd: tf.Tensor3D, k_BTd: tf.Tensor3D, v_BTd: tf.Tensor3D, heads: number, scale: number): tf.Tensor3D {
  return causalAttentionKernel(q_BTd, k_BTd, v_BTd, heads, scale);
}

export { causalMask, fromHeads, fusedCausalAttentionActive, toHeads };

/**
 * Embedding lookup as a one-hot matmul: tfjs-wasm's GatherV2 takes ~100 ms for 3776 rows of 256
 * (more than a whole layer's matmuls), and tfjs' gather gradient needs UnsortedSegmentSum, which
 * the wasm backend lacks. Vocabularies here are tiny (32–61), so [N, V] @ [V, d] costs nothing,
 * and its gradient is the plain matmul one.
 */
export function embed(wte_VD: tf.Tensor2D, idx_N: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => tf.matMul(oneHotF32(idx_N, wte_VD.shape[0]), wte_VD));
}

/**
 * Float one-hot rows. tfjs-backend-wasm 4.22's OneHot ignores the dtype argument and writes int32
 * bits into a "float32" tensor, so build it as int32 and cast.
 */
export function oneHotF32(idx_N: tf.Tensor1D, depth: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(idx_N.toInt(), depth), 'float32') as tf.Tensor2D);
}

/**
 * Mean next-token cross-entropy of logits [N, V] against integer targets [N]. Targets equal to
 * `ignoreIndex` contribute nothing (and are not counted in the mean). Computed as
 * −Σ onehot·logsoftmax so its gradient needs no scatter kernel.
 */
export function crossEntropy(logits_NV: tf.Tensor2D, targets_N: tf.Tensor1D, ignoreIndex?: number): tf.Scalar {
  return tf.tidy(() => {
    const vocab = logits_NV.shape[1];
    const logp_NV = tf.logSoftmax(logits_NV);
    let onehot_NV: tf.Tensor = oneHotF32(targets_N, vocab);
    let count: tf.Tensor = tf.scalar(targets_N.shape[0]);
    if (ignoreIndex !== undefined) {
      const keep_N1 = tf.cast(tf.notEqual(targets_N, ignoreIndex), 'float32').reshape([-1, 1]);
      onehot_NV = tf.mul(onehot_NV, keep_N1);
      count = tf.maximum(tf.sum(keep_N1), 1);
    }
    return tf.div(tf.neg(tf.sum(tf.mul(onehot_NV, logp_NV))), count) as tf.Scalar;
  });
}
