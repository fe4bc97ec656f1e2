/**
 * JumpReLU trainer (dictionary_learning JumpReluTrainer, trainers/jumprelu.py; our reading,
 * documented in docs/sae.md):
 *   pre = x W_enc + b_enc,  f = pre ⊙ 1[pre > θ],  x̂ = f W_dec + b_dec
 *   L = mean_b ‖x − x̂‖₂² + c · (L0/L0_target − 1)² · min(step / 2000, 1),  L0 = mean_b Σ 1[f > θ]
 * with straight-through gradients of bandwidth ε (rect(u) = 1 for |u| < ½):
 *   ∂f/∂pre = 1[pre > θ],  ∂f/∂θ = −(θ/ε) rect((pre − θ)/ε)   (JumpReLUFunction)
 *   ∂L0/∂f = 0,            ∂L0/∂θ = −(1/ε) rect((f − θ)/ε)   (StepFunction, applied to f as the code does)
 * Adam (0, 0.999), lr 7e-5, warm-up 1000; remove the decoder-parallel gradient, clip the global
 * norm to 1, Adam, renormalise decoder rows.
 */
import { tf } from '../../tensor/backend.js';
import type { JumpReluConfig } from '../config.js';
import { F32_EPS } from '../dictionaries/init.js';
import { colSum, mm, positiveMask } from '../ops.js';
import type { Dictionary } from '../dictionary.js';
import { chooseSaeEngine, fusedStepInputs, loadSaeNative, type SaeNativeAddon } from '../native.js';
import { renormalizeDecoder, type Adam } from '../optim.js';
import { sparsityWarmup } from '../schedule.js';
import { BaseTrainer, batchStats, type LossAndGrads } from '../trainer.js';
import { fusedBatchStats, projectThenClip } from '../trainerParts.js';

/** rect(u) = 1 for −½ < u < ½ (strict on both sides, as RectangleFunction), as a float mask. */
const rect = (u: tf.Tensor) => tf.mul(tf.step(tf.add(u, 0.5), 0), tf.step(tf.sub(0.5, u), 0));

export function jumpReluLossAndGrads(
  params: Record<string, tf.Tensor>,
  x_BD: tf.Tensor2D,
  o: { applyBDecToInput: boolean; bandwidth: number; coeff: number; targetL0: number; sparsityScale: number },
): LossAndGrads {
  return tf.tidy(() => {
    const { W_enc, b_enc, W_dec, b_dec, threshold } = params as Record<string, tf.Tensor2D>;
    const B = x_BD.shape[0];
    const bw = o.bandwidth;
    const xin = (o.applyBDecToInput ? tf.sub(x_BD, b_dec) : x_BD) as tf.Tensor2D;
    const pre = tf.add(mm(xin, W_enc), b_enc) as tf.Tensor2D;
    const preMinusTh = tf.sub(pre, threshold);
    const jump = tf.step(preMinusTh, 0);
    const f = tf.mul(pre, jump) as tf.Tensor2D;
    const xHat = tf.add(mm(f, W_dec), b_dec) as tf.Tensor2D;
    const e = tf.sub(x_BD, xHat);
    const recon = tf.div(tf.sum(tf.square(e)), B) as tf.Scalar;
    const fMinusTh = tf.sub(f, threshold);
    const l0 = tf.div(tf.sum(tf.step(fMinusTh, 0)), B) as tf.Scalar;
    const dev = tf.sub(tf.div(l0, o.targetL0), 1);
    const sparsity = tf.mul(tf.square(dev), o.coeff * o.sparsityScale) as tf.Scalar;
    const loss = tf.add(recon, sparsity) as tf.Scalar;

    const dXHat = tf.mul(e, -2 / B) as tf.Tensor2D;
    const dW_dec = mm(f, dXHat, true, false);
    const dF = mm(dXHat, W_dec, false, true);
    const dPre = tf.mul(dF, jump) as tf.Tensor2D;
    // θ gradient from the JumpReLU (reconstruction path) and from the L0 step function
    const dThetaJump = tf.mul(colSum(tf.mul(rect(tf.div(preMinusTh, bw)), dF) as tf.Tensor2D), tf.div(threshold, -bw));
    const gL0 = tf.mul(dev, (2 * o.coeff * o.sparsityScale) / o.targetL0 / B); // ∂L/∂(each step output)
    const dThetaStep = tf.mul(colSum(rect(tf.div(fMinusTh, bw)) as tf.Tensor2D), tf.mul(gL0, -1 / bw));
    const dW_enc = mm(xin, dPre, true, false);
    const db_enc = colSum(dPre);
    let db_dec: tf.Tensor = colSum(dXHat);
    // Σ_rows (dPre·W_encᵀ) = W_enc·(Σ_rows dPre)
    if (o.applyBDecToInput) db_dec = tf.sub(db_dec, tf.reshape(mm(W_enc, tf.reshape(db_enc, [-1, 1]) as tf.Tensor2D), [-1]));
    return {
      grads: { W_enc: dW_enc, b_enc: db_enc, W_dec: dW_dec, b_dec: db_dec, threshold: tf.add(dThetaJump, dThetaStep) },
      scalars: { loss, recon, sparsity, l0Step: l0, ...batchStats(x_BD, xHat, tf.sum(tf.step(tf.abs(f), 0)) as tf.Scalar) },
      fired_F: positiveMask(colSum(f)) as tf.Tensor1D,
    };
  });
}

type JumpReluOptions = Parameters<typeof jumpReluLossAndGrads>[2];

/**
 * The fused native JumpReLU step (native.ts): the same maths as jumpReluLossAndGrads + the
 * trainer's transforms (decoder projection, clipping), Adam and the decoder renormalisation.
 */
export function jumpReluNativeStep(
  addon: SaeNativeAddon,
  dict: Dictionary,
  adam: Adam,
  x_BD: tf.Tensor2D,
  o: JumpReluOptions,
  gradClip: number,
  lr: number,
): { host: Record<string, number>; fired: Float32Array } {
  const step = fusedStepInputs(dict.params, dict.dictSize, adam, x_BD, ['W_enc', 'b_enc', 'W_dec', 'b_dec', 'threshold'], lr);
  const hyper = new Float64Array([
    o.applyBDecToInput ? 1 : 0, o.bandwidth, o.coeff, o.targetL0, o.sparsityScale, gradClip,
    ...step.adamHyper, F32_EPS, 1e-6,
  ]);
  const { stats, fired } = step.run(addon.jumpReluStep, hyper, 8);
  const [loss, recon, sparsity, l0Step, nonzero, sse, varX, varE] = stats;
  return { host: { loss, recon, sparsity, l0Step, ...fusedBatchStats(nonzero, sse, varX, varE, step.B, step.D) }, fired };
}

export class JumpReluTrainer extends BaseTrainer<JumpReluConfig> {
  private readonly native = chooseSaeEngine() === 'native' ? loadSaeNative() : null;

  private options(step: number): JumpReluOptions {
    const c = this.config;
    return {
      applyBDecToInput: Boolean(this.dictionary.meta.applyBDecToInput),
      bandwidth: c.bandwidth,
      coeff: c.sparsityPenalty,
      targetL0: c.targetL0,
      sparsityScale: sparsityWarmup(step, c.sparsityWarmupSteps),
    };
  }

  protected override fusedStep(x_BD: tf.Tensor2D, step: number) {
    return this.native ? jumpReluNativeStep(this.native, this.dictionary, this.adam, x_BD, this.options(step), this.config.gradClip, this.lrAt(step)) : null;
  }

  protected lossAndGrads(x_BD: tf.Tensor2D, step: number): LossAndGrads {
    return jumpReluLossAndGrads(this.dictionary.params, x_BD, this.options(step));
  }

  protected transformGrads(grads: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
    return projectThenClip(this.dictionary, grads, this.config.gradClip);
  }

  protected override afterStep(): void {
    renormalizeDecoder(this.dictionary.params.W_dec, F32_EPS);
  }
}
