/**
 * What several trainers share, written once: each trainer stays one readable file over the small
 * interface of trainer.ts (as in saprmarks/dictionary_learning) and calls these pieces.
 *
 * - the Lp^p penalty of the ReLU and gated losses, and the p-annealing that adapts it (p_anneal and
 *   gated_anneal differ only in their loss);
 * - ConstrainedAdam's decoder-gradient projection, and the project-then-clip transform of
 *   batch_top_k and JumpReLU;
 * - the backward pass through the encoder x − b_dec → · W_enc shared by every (x − b_dec) W_enc SAE;
 * - the top-k trainers' b_dec initialisation, firing bookkeeping and AuxK selection;
 * - the scalars every fused native step returns the same way.
 */
import { tf } from '../tensor/backend.js';
import type { AnnealFields } from './config.js';
import type { Dictionary } from './dictionary.js';
import { colSum, geometricMedian, mm, removeParallelRows, topKMask } from './ops.js';
import { clipGradNorm, projectDecoderGrad } from './optim.js';
import { advancePAnneal, initialPAnnealState, pAnnealSchedule, type PAnnealSchedule, type PAnnealState } from './schedule.js';

export interface LpPenalty {
  lambda: number;
  p: number;
  /** Also report mean_b Σ f^nextP (for p-annealing's λ adaptation). */
  nextP?: number | null;
}

export function hasNextP(pen: LpPenalty): pen is LpPenalty & { nextP: number } {
  return pen.nextP !== undefined && pen.nextP !== null;
}

/** hyper of the fused Lp steps (reluStep, gatedStep): λ, p, nextP (−1: none), Adam's five, (unused). */
export function lpStepHyper(pen: LpPenalty, adamHyper: number[]): Float64Array {
  return new Float64Array([pen.lambda, pen.p, pen.nextP ?? -1, ...adamHyper, 0]);
}

/**
 * p-annealing (trainers.md §5; dictionary_learning PAnnealTrainer / GatedAnnealTrainer): p steps
 * from pStart toward pEnd at int-linspace update points and λ is rescaled at each so the penalty's
 * scale stays locally constant [P eq 14]. The trainer reads `penalty()` for its loss, calls
 * `advance` after each step and saves `state` with its own.
 */
export class PAnnealing {
  readonly schedule: PAnnealSchedule;
  state: PAnnealState;

  constructor(private readonly config: AnnealFields) {
    this.schedule = pAnnealSchedule(config);
    this.state = initialPAnnealState(config.pStart, config.initialSparsityPenalty);
  }

  penalty(): LpPenalty {
    const a = this.state;
    return { lambda: a.lambda, p: a.p, nextP: a.nextP };
  }

  /** After step `step`, with its scalars lp (and lpNext while a next p is pending). */
  advance(host: Record<string, number>, step: number): void {
    const c = this.config;
    this.state = advancePAnneal(this.state, this.schedule, step, host.lp, host.lpNext ?? null, c.sparsityQueueLength, c.pEnd);
  }

  stats(): Record<string, number | null> {
    return { p: this.state.p, nextP: this.state.nextP, lambda: this.state.lambda };
  }

  /** The trainer state's `extra`. */
  save(): Record<string, unknown> {
    return { anneal: this.state };
  }

  load(extra: Record<string, unknown>): void {
    this.state = structuredClone(extra.anneal as PAnnealState);
  }
}

/** ConstrainedAdam's gradient projection on W_dec (other gradients untouched). */
export function constrainedAdamGrads(dict: Dictionary, grads: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
  return { ...grads, W_dec: projectDecoderGrad(dict.params.W_dec as tf.Tensor2D, grads.W_dec as tf.Tensor2D) };
}

/** Remove the decoder-parallel gradient (rows normalised with eps 1e-6), then clip the global norm (batch_top_k, JumpReLU). */
export function projectThenClip(dict: Dictionary, grads: Record<string, tf.Tensor>, gradClip: number): Record<string, tf.Tensor> {
  const projected = removeParallelRows(dict.params.W_dec as tf.Tensor2D, grads.W_dec as tf.Tensor2D, 1e-6);
  const clipped = clipGradNorm({ ...grads, W_dec: projected }, gradClip);
  projected.dispose();
  return clipped;
}

/**
 * Back through the encoder input xc = x − b_dec, pre = xc W_enc (+ biases): ∂W_enc = xcᵀ dPre and
 * ∂b_dec = dXHatSum − Σ_b dPre W_encᵀ, dXHatSum being the column sums of every ∂/∂x̂ term
 * (b_dec enters both x̂ and xc).
 */
export function encoderBackward(
  xc_BD: tf.Tensor2D,
  W_enc: tf.Tensor2D,
  dPre_BF: tf.Tensor2D,
  dXHatSum_D: tf.Tensor,
): { dW_enc: tf.Tensor2D; db_dec: tf.Tensor; dPreSum_F: tf.Tensor1D } {
  const dW_enc = mm(xc_BD, dPre_BF, true, false);
  // Σ_rows (dPre·W_encᵀ) = W_enc·(Σ_rows dPre): a [D, F]·[F, 1] product instead of [B, F]·[F, D]
  const dPreSum_F = colSum(dPre_BF);
  const dXcSum_D = tf.reshape(mm(W_enc, tf.reshape(dPreSum_F, [-1, 1]) as tf.Tensor2D), [-1]);
  return { dW_enc, db_dec: tf.sub(dXHatSum_D, dXcSum_D), dPreSum_F };
}

/** The top-k trainers' step 0: b_dec ← the geometric median of the first batch. */
export function initDecoderBiasToMedian(dict: Dictionary, x_BD: tf.Tensor2D): void {
  const median = geometricMedian(x_BD);
  dict.params.b_dec.assign(median);
  median.dispose();
}

/**
 * AuxK's activations: per row the kAux largest post-ReLU activations among the dead features (live
 * ones pushed to −1e30 so they never win), as mask and values.
 */
export function auxKActivations(post_BF: tf.Tensor2D, deadMask: Float32Array, kAux: number): { auxMask: tf.Tensor; a: tf.Tensor2D } {
  const dead = tf.tensor1d(deadMask);
  const latents = tf.add(post_BF, tf.mul(tf.sub(dead, 1), 1e30)) as tf.Tensor2D;
  const auxMask = tf.mul(topKMask(latents, kAux), dead);
  return { auxMask, a: tf.mul(post_BF, auxMask) as tf.Tensor2D };
}

/** The batch scalars of a fused native step from its l0 count, Σe² and Var(x)·(B−1), Var(e)·(B−1). */
export function fusedBatchStats(l0count: number, sse: number, varX: number, varE: number, B: number, D: number): { l0: number; mse: number; fve: number } {
  return { l0: l0count / B, mse: sse / (B * D), fve: 1 - varE / varX };
}
