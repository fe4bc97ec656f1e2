/**
 * Standard trainer (trainers.md §2; dictionary_learning StandardTrainer): the ReLU SAE with
 *   L = mean_b ‖x − x̂‖₂ + λ · mean_b ‖f‖₁
 * (un-squared L2: the paper's λ ranges are calibrated to it), Adam β = (0.9, 0.999),
 * ConstrainedAdam on the decoder, LR warm-up over 1000 steps. The loss/gradient code is shared
 * with p-annealing, whose penalty is Lp^p.
 */
import { tf } from '../../tensor/backend.js';
import type { StandardConfig } from '../config.js';
import type { Dictionary } from '../dictionary.js';
import { colSum, mm, positiveMask } from '../ops.js';
import { chooseSaeEngine, fusedStepInputs, loadSaeNative, type SaeNativeAddon } from '../native.js';
import { renormalizeDecoder, type Adam } from '../optim.js';
import { BaseTrainer, batchStats, type LossAndGrads } from '../trainer.js';
import { constrainedAdamGrads, encoderBackward, fusedBatchStats, hasNextP, lpStepHyper, type LpPenalty } from '../trainerParts.js';

/**
 * Forward and backward of  mean_b ‖x − x̂‖₂ + λ mean_b Σ_i f_i^p  for the ReLU SAE, by hand:
 *   e = x̂ − x, r_b = ‖e_b‖;  ∂/∂x̂ = e / (r B)   (0 for a row with r = 0)
 *   ∂/∂f = (∂/∂x̂) W_decᵀ + λ p f^{p−1} / B,  masked to f > 0 (ReLU backward is a select, so the
 *   infinite f^{p−1} at f = 0 never multiplies anything: trainers.md §5.1)
 * Six GEMMs: 2 forward, dW_dec, dF, dW_enc, d(x − b_dec).
 */
export function reluSaeLossAndGrads(params: Record<string, tf.Tensor>, x_BD: tf.Tensor2D, pen: LpPenalty): LossAndGrads {
  return tf.tidy(() => {
    const { W_enc, b_enc, W_dec, b_dec } = params as Record<string, tf.Tensor2D>;
    const B = x_BD.shape[0];
    const xc = tf.sub(x_BD, b_dec) as tf.Tensor2D;
    // GEMM with the bias + ReLU epilogue fused (one pass over [B, F] instead of three)
    const f = tf.fused.matMul({ a: xc, b: W_enc, bias: b_enc, activation: 'relu' }) as tf.Tensor2D;
    const active = positiveMask(f); // f > 0 ⇔ pre > 0
    const xHat = tf.fused.matMul({ a: f, b: W_dec, bias: b_dec }) as tf.Tensor2D;
    const e = tf.sub(xHat, x_BD) as tf.Tensor2D;
    const r = tf.sqrt(tf.sum(tf.square(e), 1, true));
    const recon = tf.div(tf.sum(r), B) as tf.Scalar;
    const lpOf = (p: number) => (p === 1 ? tf.div(tf.sum(f), B) : tf.div(tf.sum(tf.pow(f, p)), B)) as tf.Scalar;
    const lp = lpOf(pen.p);
    const sparsity = tf.mul(lp, pen.lambda) as tf.Scalar;
    const loss = tf.add(recon, sparsity) as tf.Scalar;

    // a row with e = 0 gets 0/tiny = 0 (torch's norm backward at 0)
    const dXHat = tf.div(e, tf.mul(tf.maximum(r, 1e-30), B)) as tf.Tensor2D;
    const dW_dec = mm(f, dXHat, true, false);
    let dPre: tf.Tensor2D;
    if (pen.p === 1) {
      // ∂/∂f + λ/B as the GEMM's fused bias, then the ReLU mask
      const dFl = tf.fused.matMul({ a: dXHat, b: W_dec, transposeB: true, bias: tf.fill([W_dec.shape[0]], pen.lambda / B) });
      dPre = tf.mul(dFl, active) as tf.Tensor2D;
    } else {
      const dF = mm(dXHat, W_dec, false, true);
      // f^{p−1} evaluated at f + (1 − mask): exactly f where active (no cancellation), 1 where
      // inactive (finite), then masked — never inf·0
      const dSparse = tf.mul(tf.pow(tf.add(f, tf.sub(1, active)), pen.p - 1), (pen.lambda * pen.p) / B);
      dPre = tf.mul(tf.add(dF, dSparse), active) as tf.Tensor2D;
    }
    const { dW_enc, db_dec, dPreSum_F: db_enc } = encoderBackward(xc, W_enc, dPre, colSum(dXHat));

    const scalars: Record<string, tf.Scalar> = { loss, recon, sparsity, lp, ...batchStats(x_BD, xHat, tf.sum(active) as tf.Scalar) };
    if (hasNextP(pen)) scalars.lpNext = lpOf(pen.nextP);
    return {
      grads: { W_enc: dW_enc, b_enc: db_enc, W_dec: dW_dec, b_dec: db_dec },
      scalars,
      fired_F: positiveMask(colSum(f)) as tf.Tensor1D,
    };
  });
}

/**
 * The fused native step for the ReLU SAE (native.ts), shared by the standard and p-anneal
 * trainers: the same maths as reluSaeLossAndGrads + ConstrainedAdam, in place on the wasm heap.
 */
export function reluNativeStep(
  addon: SaeNativeAddon,
  dict: Dictionary,
  adam: Adam,
  x_BD: tf.Tensor2D,
  pen: LpPenalty,
  lr: number,
): { host: Record<string, number>; fired: Float32Array } {
  const step = fusedStepInputs(dict.params, dict.dictSize, adam, x_BD, ['W_enc', 'b_enc', 'W_dec', 'b_dec'], lr);
  const { stats, fired } = step.run(addon.reluStep, lpStepHyper(pen, step.adamHyper), 8);
  const [loss, recon, lp, lpNext, l0count, sse, varX, varE] = stats;
  const host: Record<string, number> = { loss, recon, sparsity: pen.lambda * lp, lp, ...fusedBatchStats(l0count, sse, varX, varE, step.B, step.D) };
  if (hasNextP(pen)) host.lpNext = lpNext;
  return { host, fired };
}

export class StandardTrainer extends BaseTrainer<StandardConfig> {
  private readonly native = chooseSaeEngine() === 'native' ? loadSaeNative() : null;

  protected override fusedStep(x_BD: tf.Tensor2D, step: number) {
    return this.native ? reluNativeStep(this.native, this.dictionary, this.adam, x_BD, { lambda: this.config.l1Penalty, p: 1 }, this.lrAt(step)) : null;
  }

  protected lossAndGrads(x_BD: tf.Tensor2D): LossAndGrads {
    return reluSaeLossAndGrads(this.dictionary.params, x_BD, { lambda: this.config.l1Penalty, p: 1 });
  }
  protected transformGrads(grads: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
    return constrainedAdamGrads(this.dictionary, grads);
  }
  protected override afterStep(): void {
    renormalizeDecoder(this.dictionary.params.W_dec);
  }
}
