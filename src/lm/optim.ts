/**
 * AdamW (decoupled weight decay, torch.optim.AdamW semantics) with its moments held as tfjs
 * variables so they can be saved and restored bit-exactly, nanoGPT's learning-rate schedule
 * (linear warm-up, cosine decay to minLr) and global-norm gradient clipping.
 */
import { tf } from '../tensor/backend.js';
import { adamUpdate } from '../tensor/kernels/ops.js';
import { ownedVariable } from './ops.js';
import type { HostTensor } from './params.js';

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export interface ScheduleConfig {
  lr: number;
  minLr: number;
  warmupSteps: number;
  /** Step at which the cosine reaches minLr (nanoGPT lr_decay_iters); constant minLr after. */
  decaySteps: number;
}

/**
 * nanoGPT get_lr: lr·(step+1)/(warmup+1) during warm-up, then cosine from lr to minLr until
 * decaySteps, then minLr. `step` is 0-based (the update about to be taken).
 */
export function learningRate(s: ScheduleConfig, step: number): number {
  if (step < s.warmupSteps) return (s.lr * (step + 1)) / (s.warmupSteps + 1);
  if (step > s.decaySteps) return s.minLr;
  const span = Math.max(1, s.decaySteps - s.warmupSteps);
  const ratio = (step - s.warmupSteps) / span;
  const coeff = 0.5 * (1 + Math.cos(Math.PI * ratio));
  return s.minLr + coeff * (s.lr - s.minLr);
}

/** nanoGPT's rule: matrices and embeddings (rank ≥ 2) decay; biases and LayerNorm weights don't. */
export function decays(shape: readonly number[]): boolean {
  return shape.length >= 2;
}

export class AdamW {
  readonly m = new Map<string, tf.Variable>();
  readonly v = new Map<string, tf.Variable>();
  /** Number of updates taken (bias correction uses step + 1 for the next one). */
  step = 0;

  constructor(
    readonly params: { name: string; variable: tf.Variable }[],
    readonly cfg: AdamWConfig,
  ) {
    for (const { name, variable } of params) {
      this.m.set(name, ownedVariable(() => tf.zerosLike(variable), false));
      this.v.set(name, ownedVariable(() => tf.zerosLike(variable), false));
    }
  }

  /** Apply one update with `grads` (already clipped) at learning rate `lr`. */
  apply(grads: Record<string, tf.Tensor>, lr: number): void {
    const { beta1, beta2, eps, weightDecay } = this.cfg;
    const t = this.step + 1;
    const bc1 = 1 - beta1 ** t;
    const bc2 = 1 - beta2 ** t;
    for (const { name, variable } of this.params) {
      const g = grads[name];
      if (!g) continue;
      // one native pass on wasm+native, composed ops elsewhere; bit-identical either way
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      const out = adamUpdate(variable, g, m, v, {
        beta1,
        beta2,
        epsilon: eps,
        stepSize: lr / bc1,
        bc2Sqrt: Math.sqrt(bc2),
        decay: weightDecay > 0 && decays(variable.shape) ? 1 - lr * weightDecay : 1,
      });
      variable.assign(out.p);
      m.assign(out.m);
      v.assign(out.v);
      tf.dispose([out.p, out.m, out.v]);
    }
    this.step = t;
  }

  async toHost(): Promise<Record<string, HostTensor>> {
    const out: Record<string, HostTensor> = {};
    for (const [name, m] of this.m) out[`m.${name}`] = { shape: [...m.shape], data: (await m.data()) as Float32Array };
    for (const [name, v] of this.v) out[`v.${name}`] = { shape: [...v.shape], data: (await v.data()) as Float32Array };
    return out;
  }

  load(host: Record<string, HostTensor>, step: number, source: string): void {
    for (const [kind, map] of [['m', this.m], ['v', this.v]] as const) {
      for (const [name, variable] of map) {
        const t = host[`${kind}.${name}`];
        if (!t) throw new Error(`${source}: optimizer state has no "${kind}.${name}"`);
        if (t.data.length !== variable.size) throw new Error(`${source}: optimizer "${kind}.${name}" has ${t.data.length} values, expected ${variable.size}`);
        variable.assign(tf.tensor(t.data, variable.shape, 'float32'));
      }
    }
    this.step = step;
  }

  dispose(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
  }
}

/** Scale gradients so their global L2 norm is at most maxNorm (torch clip_grad_norm_). Returns the pre-clip norm. */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): { clipped: Record<string, tf.Tensor>; norm: number } {
  const names = Object.keys(grads);
  const norm = tf.tidy(() => tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n]))))).dataSync()[0]);
  if (!(maxNorm > 0) || norm <= maxNorm) return { clipped: grads, norm };
  const scale = maxNorm / (norm + 1e-6);
  const clipped: Record<string, tf.Tensor> = {};
  for (const n of names) {
    clipped[n] = tf.mul(grads[n], scale);
    grads[n].dispose();
  }
  return { clipped, norm };
}
