/**
 * The JumpReLU SAE (dictionary_learning `JumpReluAutoEncoder`, trainers/jumprelu.py):
 *   pre = (x − applyBDecToInput·b_dec) W_enc + b_enc;  f = ReLU(pre ⊙ 1[pre > threshold])
 * with a learnt per-feature threshold. dictionary_learning trains without subtracting b_dec
 * (applyBDecToInput = false); SAELens JumpReLU SAEs default to true.
 */
import { tf } from '../../tensor/backend.js';
import { BaseDictionary, registerDictionary, type Dictionary, type DictionaryMeta } from '../dictionary.js';
import { mm } from '../ops.js';
import type { Rng } from '../rng.js';
import { normalizeRowsHost, transposeHost } from './init.js';

export const jumpReluShapes = (d: number, F: number): Record<string, number[]> => ({
  W_enc: [d, F],
  b_enc: [F],
  W_dec: [F, d],
  b_dec: [d],
  threshold: [F],
});

export class JumpReluDictionary extends BaseDictionary {
  readonly name = 'jump_relu' as const;

  constructor(dIn: number, dictSize: number, tensors: Record<string, Float32Array>, meta: DictionaryMeta = {}) {
    super(dIn, dictSize, jumpReluShapes(dIn, dictSize), tensors, { applyBDecToInput: false, ...meta });
  }

  preActivation(x_BD: tf.Tensor2D): tf.Tensor2D {
    const p = this.params;
    return tf.tidy(() => {
      const xin = this.meta.applyBDecToInput ? (tf.sub(x_BD, p.b_dec) as tf.Tensor2D) : x_BD;
      return tf.add(mm(xin, p.W_enc as tf.Tensor2D), p.b_enc) as tf.Tensor2D;
    });
  }

  encode(x_BD: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const pre = this.preActivation(x_BD);
      return tf.relu(tf.mul(pre, tf.step(tf.sub(pre, this.params.threshold), 0))) as tf.Tensor2D;
    });
  }
}

/**
 * dictionary_learning's init: W_enc standard normal with unit-norm feature columns, W_dec = W_encᵀ,
 * biases and thresholds 0.
 */
export function initJumpRelu(dIn: number, dictSize: number, rng: Rng): Record<string, Float32Array> {
  const W_dec = normalizeRowsHost(rng.fillNormal(new Float32Array(dictSize * dIn)), dictSize, dIn);
  return {
    W_enc: transposeHost(W_dec, dictSize, dIn),
    b_enc: new Float32Array(dictSize),
    W_dec,
    b_dec: new Float32Array(dIn),
    threshold: new Float32Array(dictSize),
  };
}

registerDictionary({
  name: 'jump_relu',
  shapes: jumpReluShapes,
  create: (d, F, t, meta): Dictionary => new JumpReluDictionary(d, F, t, meta),
});
