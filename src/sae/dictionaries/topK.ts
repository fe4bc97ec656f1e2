/**
 * The top-k SAE (trainers.md §4; dictionary_learning `AutoEncoderTopK` at c52ff00):
 *   pre = ReLU((x − b_dec) W_enc + b_enc);  f = pre on its k largest entries per row, 0 elsewhere
 *   x̂ = f W_dec + b_dec
 * `encode` returns the top-k-sparsified features (the ones the paper evaluated: Othello TopK rows
 * have L0 exactly k; trainers.md §4).
 */
import { tf } from '../../tensor/backend.js';
import { BaseDictionary, checkedK, registerDictionary, type Dictionary, type DictionaryMeta } from '../dictionary.js';
import { topKMask } from '../ops.js';
import type { Rng } from '../rng.js';
import { F32_EPS, linearDefault, normalizeRowsHost, transposeHost } from './init.js';
import { reluShapes } from './relu.js';

export class TopKDictionary extends BaseDictionary {
  readonly name = 'top_k' as const;
  readonly k: number;

  constructor(dIn: number, dictSize: number, tensors: Record<string, Float32Array>, meta: DictionaryMeta) {
    super(dIn, dictSize, reluShapes(dIn, dictSize), tensors, meta);
    this.k = checkedK(this.name, meta, dictSize);
  }

  /** ReLU pre-activations before the top-k selection. */
  postRelu(x_BD: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.relu(this.centeredAffine(x_BD, this.params.b_enc)) as tf.Tensor2D);
  }

  encode(x_BD: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const pre = this.postRelu(x_BD);
      return tf.mul(pre, topKMask(pre, this.k)) as tf.Tensor2D;
    });
  }
}

/**
 * c52ff00's init: encoder = nn.Linear default with zero bias; decoder = a clone of the encoder
 * weights (one row per feature), rows normalised; b_dec = 0 until the trainer sets it to the
 * geometric median of the first batch.
 */
export function initTopK(dIn: number, dictSize: number, rng: Rng): Record<string, Float32Array> {
  const encWeight_FD = linearDefault(rng, dictSize * dIn, dIn); // torch encoder.weight [F, d]
  const W_dec = normalizeRowsHost(new Float32Array(encWeight_FD), dictSize, dIn, F32_EPS);
  return {
    W_enc: transposeHost(encWeight_FD, dictSize, dIn),
    b_enc: new Float32Array(dictSize),
    W_dec,
    b_dec: new Float32Array(dIn),
  };
}

registerDictionary({
  name: 'top_k',
  shapes: reluShapes,
  create: (d, F, t, meta): Dictionary => new TopKDictionary(d, F, t, meta),
});
