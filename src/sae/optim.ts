/**
 * Adam exactly as torch.optim.Adam computes it (no weight decay, no amsgrad), with its state held
 * in tfjs variables so it can be checkpointed and restored bit for bit:
 *   m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²
 *   p ← p − (lr / (1−β1^t)) · m / (√v / √(1−β2^t) + ε)
 * plus the decoder-norm helpers of dictionary_learning's ConstrainedAdam and
 * `remove_gradient_parallel_to_decoder_directions`, and global-norm gradient clipping.
 */
import { tf } from '../tensor/backend.js';
import { adamUpdate } from '../tensor/kernels/ops.js';
import type { HostTensor } from './dictionary.js';
import { normalizeRows, removeParallelRows } from './ops.js';

function zerosVariable(like: tf.Tensor): tf.Variable {
  const z = tf.zeros(like.shape, 'float32');
  const v = tf.variable(z, false);
  z.dispose(); // the variable holds its own reference
  return v;
}

export class Adam {
  /** Number of Adam steps taken (torch's per-parameter `step`; all parameters share it here). */
  t = 0;
  private readonly m: Record<string, tf.Variable> = {};
  private readonly v: Record<string, tf.Variable> = {};

  constructor(
    params: Record<string, tf.Variable>,
    readonly beta1: number,
    readonly beta2: number,
    readonly eps: number,
  ) {
    for (const [name, p] of Object.entries(params)) {
      this.m[name] = zerosVariable(p);
      this.v[name] = zerosVariable(p);
    }
  }

  /** One step on every parameter that has a gradient. */
  step(params: Record<string, tf.Variable>, grads: Record<string, tf.Tensor>, lr: number): void {
    this.t += 1;
    const { beta1: b1, beta2: b2, eps } = this;
    const stepSize = lr / (1 - b1 ** this.t);
    const bc2Sqrt = Math.sqrt(1 - b2 ** this.t);
    for (const [name, g] of Object.entries(grads)) {
      const p = params[name];
      const m = this.m[name];
      const v = this.v[name];
      // the backend's Adam op: one native pass on wasm+native, the same composed ops elsewhere
      // (both in torch's order of operations, bit-identical to each other)
      const out = adamUpdate(p, g, m, v, { beta1: b1, beta2: b2, epsilon: eps, stepSize, bc2Sqrt });
      p.assign(out.p);
      m.assign(out.m);
      v.assign(out.v);
      tf.dispose([out.p, out.m, out.v]);
    }
  }

  /** The moment variables of one parameter (for engines that update them in place). */
  moments(name: string): { m: tf.Variable; v: tf.Variable } {
    return { m: this.m[name], v: this.v[name] };
  }

  stateTensors(): Record<string, HostTensor> {
    const out: Record<string, HostTensor> = {};
    for (const name of Object.keys(this.m)) {
      out[`exp_avg.${name}`] = { data: new Float32Array(this.m[name].dataSync() as Float32Array), shape: [...this.m[name].shape] };
      out[`exp_avg_sq.${name}`] = { data: new Float32Array(this.v[name].dataSync() as Float32Array), shape: [...this.v[name].shape] };
    }
    return out;
  }

  loadStateTensors(t: number, tensors: Record<string, Float32Array>): void {
    this.t = t;
    for (const name of Object.keys(this.m)) {
      for (const [prefix, store] of [
        ['exp_avg', this.m],
        ['exp_avg_sq', this.v],
      ] as const) {
        const data = tensors[`${prefix}.${name}`];
        if (!data || data.length !== store[name].size) throw new Error(`optimizer state: missing or mis-sized ${prefix}.${name}`);
        tf.tidy(() => store[name].assign(tf.tensor(data, store[name].shape, 'float32')));
      }
    }
  }

  dispose(): void {
    for (const x of [...Object.values(this.m), ...Object.values(this.v)]) x.dispose();
  }
}

/** ConstrainedAdam, before the Adam step: remove each decoder row gradient's radial component. */
export function projectDecoderGrad(W_dec_FD: tf.Tensor2D, g_FD: tf.Tensor2D): tf.Tensor2D {
  return removeParallelRows(W_dec_FD, g_FD);
}

/** Renormalise decoder rows in place: w / (‖w‖ + eps) (eps 0 for ConstrainedAdam, f32 eps elsewhere). */
export function renormalizeDecoder(W_dec: tf.Variable, eps = 0): void {
  tf.tidy(() => W_dec.assign(normalizeRows(W_dec as tf.Tensor2D, eps)));
}

/** torch.nn.utils.clip_grad_norm_: scale every gradient by min(max / (‖g‖ + 1e-6), 1), on device. */
export function clipGradNorm(grads: Record<string, tf.Tensor>, maxNorm: number): Record<string, tf.Tensor> {
  return tf.tidy(() => {
    const sq = Object.values(grads).map((g) => tf.sum(tf.square(g)));
    const total = tf.sqrt(tf.addN(sq));
    const coef = tf.minimum(tf.div(maxNorm, tf.add(total, 1e-6)), 1);
    const out: Record<string, tf.Tensor> = {};
    for (const [k, g] of Object.entries(grads)) out[k] = tf.mul(g, coef);
    return out;
  });
}
