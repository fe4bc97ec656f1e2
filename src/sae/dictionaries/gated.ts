/**
 * The gated SAE (trainers.md §3; dictionary_learning `GatedAutoEncoder`), with weight sharing
 * between the gate and magnitude paths (W_mag = exp(r_mag) ⊙ W_gate):
 *   z = (x − b_dec) W_enc,  π_gate = z + b_gate,  π_mag = exp(r_mag) ⊙ z + b_mag
 *   f = 1[π_gate > 0] ⊙ ReLU(π_mag),  x̂ = f W_dec + b_dec
 * `W_enc` is the gate matrix (dictionary_learning `encoder.weight`ᵀ, SAELens `W_enc`).
 * Features are not rescaled by decoder norms: those are 1 under the training constraint.
 */
import { tf } from '../../tensor/backend.js';
import { BaseDictionary, registerDictionary, type Dictionary, type DictionaryMeta } from '../dictionary.js';
import type { Rng } from '../rng.js';
import { linearDefault, normalizeRowsHost } from './init.js';

export const gatedShapes = (d: number, F: number): Record<string, number[]> => ({
  W_enc: [d, F],
  r_mag: [F],
  b_gate: [F],
  b_mag: [F],
  W_dec: [F, d],
  b_dec: [d],
});

export class GatedDictionary extends BaseDictionary {
  readonly name = 'gated' as const;

  constructor(dIn: number, dictSize: number, tensors: Record<string, Float32Array>, meta: DictionaryMeta = {}) {
    super(dIn, dictSize, gatedShapes(dIn, dictSize), tensors, meta);
  }

  encode(x_BD: tf.Tensor2D): tf.Tensor2D {
    const p = this.params;
    return tf.tidy(() => {
      const z = this.centeredAffine(x_BD);
      const gate = tf.step(tf.add(z, p.b_gate), 0);
      const mag = tf.relu(tf.add(tf.mul(z, tf.exp(p.r_mag)), p.b_mag));
      return tf.mul(mag, gate) as tf.Tensor2D;
    });
  }

  /** ReLU(π_gate): the gate path's activations (penalised by the sparsity term). */
  gateActivations(x_BD: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.relu(this.centeredAffine(x_BD, this.params.b_gate)) as tf.Tensor2D);
  }
}

/** dictionary_learning's init: biases and r_mag zero, W_gate nn.Linear default, decoder random unit vectors. */
export function initGated(dIn: number, dictSize: number, rng: Rng): Record<string, Float32Array> {
  const W_enc = linearDefault(rng, dIn * dictSize, dIn);
  const W_dec = normalizeRowsHost(rng.fillNormal(new Float32Array(dictSize * dIn)), dictSize, dIn);
  return {
    W_enc,
    r_mag: new Float32Array(dictSize),
    b_gate: new Float32Array(dictSize),
    b_mag: new Float32Array(dictSize),
    W_dec,
    b_dec: new Float32Array(dIn),
  };
}

registerDictionary({
  name: 'gated',
  shapes: gatedShapes,
  create: (d, F, t, meta): Dictionary => new GatedDictionary(d, F, t, meta),
});
