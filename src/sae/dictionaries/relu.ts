/**
 * The standard ReLU SAE (trainers.md §2; dictionary_learning `AutoEncoder`):
 *   f(x) = ReLU((x − b_dec) W_enc + b_enc),   x̂ = f W_dec + b_dec
 * Trained by the `standard` (L1) and `p_anneal` (Lp^p) trainers.
 */
import { tf } from '../../tensor/backend.js';
import { BaseDictionary, registerDictionary, type Dictionary, type DictionaryMeta } from '../dictionary.js';
import type { Rng } from '../rng.js';
import { linearDefault, normalizeRowsHost } from './init.js';

export const reluShapes = (d: number, F: number): Record<string, number[]> => ({
  W_enc: [d, F],
  b_enc: [F],
  W_dec: [F, d],
  b_dec: [d],
});

export class ReluDictionary extends BaseDictionary {
  readonly name = 'relu' as const;

  constructor(dIn: number, dictSize: number, tensors: Record<string, Float32Array>, meta: DictionaryMeta = {}) {
    super(dIn, dictSize, reluShapes(dIn, dictSize), tensors, meta);
  }

  /** Pre-activation (x − b_dec) W_enc + b_enc. */
  preActivation(x_BD: tf.Tensor2D): tf.Tensor2D {
    return this.centeredAffine(x_BD, this.params.b_enc);
  }

  encode(x_BD: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.relu(this.preActivation(x_BD)));
  }
}

/**
 * dictionary_learning's init: b_dec = 0; encoder = nn.Linear default (weights and bias
 * U(±1/√d)); decoder = standard normal with unit-norm dictionary vectors, independent of the encoder.
 */
export function initRelu(dIn: number, dictSize: number, rng: Rng): Record<string, Float32Array> {
  const W_enc = linearDefault(rng, dIn * dictSize, dIn);
  const b_enc = linearDefault(rng, dictSize, dIn);
  const W_dec = normalizeRowsHost(rng.fillNormal(new Float32Array(dictSize * dIn)), dictSize, dIn);
  return { W_enc, b_enc, W_dec, b_dec: new Float32Array(dIn) };
}

registerDictionary({
  name: 'relu',
  shapes: reluShapes,
  create: (d, F, t, meta): Dictionary => new ReluDictionary(d, F, t, meta),
});
