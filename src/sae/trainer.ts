/**
 * The trainer interface (one small interface, one file per trainer, a registry — as in
 * saprmarks/dictionary_learning) and the machinery they share.
 *
 * A trainer owns a dictionary and an optimizer. `update(x)` runs one step: the trainer's
 * `lossAndGrads` (hand-written forward + backward, so every gradient is explicit and the GEMM
 * count is the minimum), the trainer's gradient transforms (decoder projection, clipping), Adam,
 * and the post-step constraint. This pure-tfjs path is the reference; a fused native step can
 * replace `lossAndGrads` + the optimizer per trainer without changing this interface.
 */
import { tf } from '../tensor/backend.js';
import { SaeboardError, UserInputError } from '../errors.js';
import type { TrainerConfig, TrainerName } from './config.js';
import type { Dictionary, HostTensor } from './dictionary.js';
import { colMean } from './ops.js';
import { Adam } from './optim.js';
import { lrFactor } from './schedule.js';

/** What one step reports (read back from the device once per step). */
export interface StepStats {
  /** The step that was just taken (0-based); the trainer's `step` is now `step + 1`. */
  step: number;
  loss: number;
  /** Loss parts by name (e.g. recon, sparsity, aux). */
  parts: Record<string, number>;
  /** Mean number of non-zero features per row. */
  l0: number;
  /** mean_{b,d} (x − x̂)². */
  mse: number;
  /** Fraction of variance explained on the batch (metrics.md §7 formula). */
  fve: number;
  /** Features that have not fired for more than the dead-token threshold. */
  dead: number;
  lr: number;
  /** Trainer-specific monitoring values (p, λ, threshold, ...). */
  extra: Record<string, number | null>;
}

/** The training batch or activations contained NaN/Inf, or the loss diverged. */
export class NonFiniteError extends SaeboardError {
  constructor(message: string) {
    super('BAD_USER_INPUT', message);
  }
}

/** Serialisable trainer state beyond the dictionary weights. */
export interface TrainerState {
  json: {
    trainer: TrainerName;
    step: number;
    adamStep: number;
    tokensSinceFired: number[];
    extra: Record<string, unknown>;
  };
  /** Optimizer moments (and any tensor state), canonical parameter names. */
  tensors: Record<string, HostTensor>;
}

export interface Trainer {
  readonly config: TrainerConfig;
  readonly dictionary: Dictionary;
  /** Completed updates. */
  readonly step: number;
  update(x_BD: tf.Tensor2D): StepStats;
  state(): TrainerState;
  loadState(state: { json: TrainerState['json']; tensors: Record<string, Float32Array> }): void;
  dispose(): void;
}

/** Output of a trainer's forward + backward pass. All tensors are owned by the caller. */
export interface LossAndGrads {
  grads: Record<string, tf.Tensor>;
  /** Scalars to read back: must include `loss`, `l0`, `mse`, `fve`. */
  scalars: Record<string, tf.Scalar>;
  /** 1 for features that fired in this batch, [F] (omitted when tracked inside lossAndGrads). */
  fired_F?: tf.Tensor1D;
}

/**
 * Tokens since each feature last fired (dictionary_learning `num_tokens_since_fired`), on the host:
 * one [F] readback per step, and exact integer counts up to 2^53.
 */
export class FiringTracker {
  readonly tokensSinceFired: Float64Array;
  constructor(dictSize: number) {
    this.tokensSinceFired = new Float64Array(dictSize);
  }
  observe(fired: ArrayLike<number>, nTokens: number): void {
    const t = this.tokensSinceFired;
    for (let i = 0; i < t.length; i++) t[i] = fired[i] > 0 ? 0 : t[i] + nTokens;
  }
  /** 1 where dead: `> threshold` (top_k, trainers.md §4) or `>= threshold` (batch_top_k). */
  deadMask(threshold: number, inclusive = false): Float32Array {
    const t = this.tokensSinceFired;
    const out = new Float32Array(t.length);
    for (let i = 0; i < t.length; i++) out[i] = (inclusive ? t[i] >= threshold : t[i] > threshold) ? 1 : 0;
    return out;
  }
  countDead(threshold: number, inclusive = false): number {
    let n = 0;
    for (const v of this.tokensSinceFired) if (inclusive ? v >= threshold : v > threshold) n++;
    return n;
  }
}

/**
 * Common scalars every trainer reports: L0 (from the count of non-zero features the trainer
 * already has as a mask), MSE and the batch FVE.
 */
export function batchStats(x_BD: tf.Tensor2D, xHat_BD: tf.Tensor2D, activeCount: tf.Scalar): { l0: tf.Scalar; mse: tf.Scalar; fve: tf.Scalar } {
  return tf.tidy(() => {
    const B = x_BD.shape[0];
    const err = tf.sub(x_BD, xHat_BD) as tf.Tensor2D;
    const l0 = tf.div(activeCount, B) as tf.Scalar;
    const mse = tf.mean(tf.square(err)) as tf.Scalar;
    // 1 − Σ_d Var(x − x̂) / Σ_d Var(x), unbiased variances over the batch (metrics.md §7)
    const varSum = (t: tf.Tensor2D) => tf.div(tf.sum(tf.square(tf.sub(t, colMean(t)))), Math.max(B - 1, 1));
    const fve = tf.sub(1, tf.div(varSum(err), varSum(x_BD))) as tf.Scalar;
    return { l0, mse, fve };
  });
}

export abstract class BaseTrainer<C extends TrainerConfig> implements Trainer {
  step = 0;
  protected readonly adam: Adam;
  protected readonly trainable: Record<string, tf.Variable>;
  protected readonly firing: FiringTracker;
  /** Dead-feature definition used for the `dead` statistic (and AuxK where it applies). */
  protected deadThreshold = 10_000_000;
  protected deadInclusive = false;
  /** Set by trainers that update `firing` inside lossAndGrads. */
  protected tracksFiringInLoss = false;

  constructor(
    readonly config: C,
    readonly dictionary: Dictionary,
  ) {
    if (dictionary.dIn !== config.dIn || dictionary.dictSize !== config.dictSize) {
      throw new UserInputError(
        `trainer ${config.trainer}: dictionary is ${dictionary.dIn}×${dictionary.dictSize} but the config says dIn ${config.dIn}, dictSize ${config.dictSize}`,
      );
    }
    this.trainable = Object.fromEntries(Object.entries(dictionary.params).filter(([, v]) => v.trainable));
    this.adam = new Adam(this.trainable, config.betas[0], config.betas[1], config.eps);
    this.firing = new FiringTracker(config.dictSize);
  }

  /** Forward + backward for the current step (inside a tidy scope owned by the caller). */
  protected abstract lossAndGrads(x_BD: tf.Tensor2D, step: number): LossAndGrads;

  /**
   * A fused step that replaces lossAndGrads + gradient transforms + Adam + afterStep (the native
   * engine). Returns the step's scalars and fired-feature flags, or null to use the tfjs path.
   * It must leave the parameters untouched when the loss is not finite.
   */
  protected fusedStep(_x_BD: tf.Tensor2D, _step: number): { host: Record<string, number>; fired: ArrayLike<number> } | null {
    return null;
  }

  /** Hook before the loss (e.g. top-k's geometric-median b_dec init and decoder renorm). */
  protected beforeLoss(_x_BD: tf.Tensor2D, _step: number): void {}

  /** Gradient transforms before Adam (decoder projection, clipping). Returns new tensors. */
  protected abstract transformGrads(grads: Record<string, tf.Tensor>): Record<string, tf.Tensor>;

  /** Parameter constraint after Adam (decoder renormalisation). */
  protected afterStep(_host: Record<string, number>, _step: number): void {}

  /** Host-side bookkeeping with the step's scalars (p-annealing), before the next step. */
  protected afterLoss(_host: Record<string, number>, _step: number): void {}

  protected extraStats(): Record<string, number | null> {
    return {};
  }
  protected extraState(): Record<string, unknown> {
    return {};
  }
  protected loadExtraState(_extra: Record<string, unknown>): void {}

  lrAt(step: number): number {
    const c = this.config;
    return c.lr * lrFactor(step, c.warmupSteps, c.decayStart, c.steps);
  }

  update(x_BD: tf.Tensor2D): StepStats {
    if (x_BD.rank !== 2 || x_BD.shape[1] !== this.config.dIn) {
      throw new UserInputError(`trainer ${this.config.trainer}: batch has shape [${x_BD.shape}], expected [B, ${this.config.dIn}] (d_in mismatch)`);
    }
    const step = this.step;
    const B = x_BD.shape[0];
    const fused = this.fusedStep(x_BD, step);
    if (fused) {
      if (!Number.isFinite(fused.host.loss)) {
        throw new NonFiniteError(
          `trainer ${this.config.trainer}: the loss became ${fused.host.loss} at step ${step}; parameters were not updated (the last checkpoint is intact)`,
        );
      }
      if (!this.tracksFiringInLoss) this.firing.observe(fused.fired, B); // else the fused step did
      const extra = this.extraStats();
      this.afterLoss(fused.host, step);
      this.step = step + 1;
      const { loss, l0, mse, fve, ...rest } = fused.host;
      return { step, loss, parts: rest, l0, mse, fve, dead: this.firing.countDead(this.deadThreshold, this.deadInclusive), lr: this.lrAt(step), extra };
    }
    this.beforeLoss(x_BD, step);
    const out = this.lossAndGrads(x_BD, step);
    const names = Object.keys(out.scalars);
    const packed = tf.tidy(() => {
      const parts: tf.Tensor[] = [tf.stack(names.map((n) => out.scalars[n]))];
      if (out.fired_F) parts.push(out.fired_F);
      return tf.concat(parts);
    });
    const hostAll = packed.dataSync() as Float32Array;
    packed.dispose();
    const host: Record<string, number> = {};
    names.forEach((n, i) => (host[n] = hostAll[i]));
    if (!Number.isFinite(host.loss)) {
      tf.dispose([...Object.values(out.grads), ...Object.values(out.scalars), ...(out.fired_F ? [out.fired_F] : [])]);
      throw new NonFiniteError(
        `trainer ${this.config.trainer}: the loss became ${host.loss} at step ${step}; parameters were not updated (the last checkpoint is intact)`,
      );
    }
    if (out.fired_F && !this.tracksFiringInLoss) this.firing.observe(hostAll.subarray(names.length), B);
    tf.dispose([...Object.values(out.scalars), ...(out.fired_F ? [out.fired_F] : [])]);

    const lr = this.lrAt(step);
    const transformed = this.transformGrads(out.grads);
    if (transformed !== out.grads) tf.dispose(Object.values(out.grads).filter((g) => !Object.values(transformed).includes(g)));
    this.adam.step(this.trainable, transformed, lr);
    tf.dispose(Object.values(transformed));
    this.afterStep(host, step);
    const extraBefore = this.extraStats();
    this.afterLoss(host, step);
    this.step = step + 1;

    const parts: Record<string, number> = {};
    for (const n of names) if (!['loss', 'l0', 'mse', 'fve'].includes(n)) parts[n] = host[n];
    return {
      step,
      loss: host.loss,
      parts,
      l0: host.l0,
      mse: host.mse,
      fve: host.fve,
      dead: this.firing.countDead(this.deadThreshold, this.deadInclusive),
      lr,
      extra: extraBefore,
    };
  }

  state(): TrainerState {
    return {
      json: {
        trainer: this.config.trainer,
        step: this.step,
        adamStep: this.adam.t,
        tokensSinceFired: Array.from(this.firing.tokensSinceFired),
        extra: this.extraState(),
      },
      tensors: this.adam.stateTensors(),
    };
  }

  loadState(state: { json: TrainerState['json']; tensors: Record<string, Float32Array> }): void {
    const j = state.json;
    if (j.trainer !== this.config.trainer) throw new UserInputError(`trainer state is for ${j.trainer}, not ${this.config.trainer}`);
    if (j.tokensSinceFired.length !== this.config.dictSize) throw new UserInputError('trainer state: tokensSinceFired has the wrong length');
    this.step = j.step;
    this.adam.loadStateTensors(j.adamStep, state.tensors);
    this.firing.tokensSinceFired.set(j.tokensSinceFired);
    this.loadExtraState(j.extra);
  }

  dispose(): void {
    this.adam.dispose();
    this.dictionary.dispose();
  }
}
