/**
 * The batch-top-k SAE (dictionary_learning `BatchTopKSAE`, trainers/batch_top_k.py). Training keeps
 * the k·B largest ReLU pre-activations of the whole batch; evaluation (`encode`) uses the learnt
 * global threshold instead, as dictionary_learning's `encode(use_threshold=True)` does:
 *   pre = ReLU((x − b_dec) W_enc + b_enc);  f = pre ⊙ 1[pre > threshold]
 * `threshold` is a scalar buffer (−1 = not yet estimated, which keeps every positive activation).
 */
import { tf } from '../../tensor/backend.js';
import { BaseDictionary, checkedK, registerDictionary, type Dictionary, type DictionaryMeta } from '../dictionary.js';
import type { Rng } from '../rng.js';
import { F32_EPS, linearDefault, normalizeRowsHost, transposeHost } from './init.js';

export const batchTopKShapes = (d: number, F: number): Record<string, number[]> => ({
  W_enc: [d, F],
  b_enc: [F],
  W_dec: [F, d],
  b_dec: [d],
  threshold: [],
});

export class BatchTopKDictionary extends BaseDictionary {
  readonly name = 'batch_top_k' as const;
  readonly k: number;

  constructor(dIn: number, dictSize: number, tensors: Record<string, Float32Array>, meta: DictionaryMeta) {
    super(dIn, dictSize, batchTopKShapes(dIn, dictSize), tensors, meta, (n) => n !== 'threshold');
    this.k = checkedK(this.name, meta, dictSize);
  }

  /** ReLU pre-activations before the selection. */
  postRelu(x_BD: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.relu(this.centeredAffine(x_BD, this.params.b_enc)) as tf.Tensor2D);
  }

  encode(x_BD: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const pre = this.postRelu(x_BD);
      return tf.mul(pre, tf.step(tf.sub(pre, this.params.threshold), 0)) as tf.Tensor2D;
    });
  }

  /** Training-time encoding: the k·B largest activations of the batch. */
  encodeBatchTopK(x_BD: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const pre = this.postRelu(x_BD);
      return tf.mul(pre, batchTopKMask(pre, this.k * x_BD.shape[0])) as tf.Tensor2D;
    });
  }
}

/** 0/1 mask of the n largest entries of the whole matrix. */
export function batchTopKMask(v_BF: tf.Tensor2D, n: number): tf.Tensor2D {
  return tf.tidy(() => {
    const flat = tf.reshape(v_BF, [-1]);
    const kth = tf.min(tf.topk(flat, Math.min(n, flat.size), false).values);
    return tf.sub(1, tf.step(tf.sub(kth, v_BF), 0)) as tf.Tensor2D;
  });
}

/**
 * dictionary_learning's init: decoder = nn.Linear(F, d) default (U(±1/√F)) with unit-norm
 * dictionary vectors; encoder weights = that decoder transposed; biases 0; threshold −1.
 */
export function initBatchTopK(dIn: number, dictSize: number, rng: Rng): Record<string, Float32Array> {
  const decWeight_DF = linearDefault(rng, dIn * dictSize, dictSize); // torch decoder.weight [d, F]
  const W_dec = normalizeRowsHost(transposeHost(decWeight_DF, dIn, dictSize), dictSize, dIn, F32_EPS);
  return {
    W_enc: transposeHost(W_dec, dictSize, dIn),
    b_enc: new Float32Array(dictSize),
    W_dec,
    b_dec: new Float32Array(dIn),
    threshold: new Float32Array([-1]),
  };
}

registerDictionary({
  name: 'batch_top_k',
  shapes: batchTopKShapes,
  create: (d, F, t, meta): Dictionary => new BatchTopKDictionary(d, F, t, meta),
});
