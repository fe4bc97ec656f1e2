/**
 * Gated trainer (trainers.md §3; dictionary_learning GatedSAETrainer, trainers/gdm.py):
 *   L = mean_b ‖x − x̂‖₂² + λ · mean_b ‖ReLU(π_gate)‖₁ + mean_b ‖x − (sg(W_dec) ReLU(π_gate) + sg(b_dec))‖₂²
 * Adam β = (0, 0.999) (CODE≠PAPER), ConstrainedAdam, warm-up 1000. The loss/gradient code is
 * shared with gated-annealing, whose penalty is Lp^p of the gate activations.
 */
import { tf } from '../../tensor/backend.js';
import type { GatedConfig } from '../config.js';
import { colSum, mm, positiveMask } from '../ops.js';
import type { Dictionary } from '../dictionary.js';
import { chooseSaeEngine, fusedStepInputs, loadSaeNative, type SaeNativeAddon } from '../native.js';
import { renormalizeDecoder, type Adam } from '../optim.js';
import { BaseTrainer, batchStats, type LossAndGrads } from '../trainer.js';
import { constrainedAdamGrads, encoderBackward, fusedBatchStats, hasNextP, lpStepHyper, type LpPenalty } from '../trainerParts.js';

/**
 * Forward and backward of the gated loss, by hand (g = ReLU(π_gate), f = 1[π_gate>0] ReLU(π_mag)):
 *   ∂/∂x̂ = 2(x̂ − x)/B,  ∂/∂x̂_aux = 2(x̂_aux − x)/B (stop-gradient: no W_dec / b_dec gradient)
 *   ∂/∂π_mag = (∂/∂x̂ W_decᵀ) ⊙ 1[π_gate>0] ⊙ 1[π_mag>0]      (the Heaviside passes no gradient)
 *   ∂/∂π_gate = (∂/∂x̂_aux W_decᵀ + λ p g^{p−1}/B) ⊙ 1[π_gate>0]
 *   ∂/∂z = ∂/∂π_gate + exp(r_mag) ⊙ ∂/∂π_mag  (shared W_gate),  ∂/∂r_mag = Σ_b ∂/∂π_mag ⊙ exp(r_mag) ⊙ z
 */
export function gatedLossAndGrads(params: Record<string, tf.Tensor>, x_BD: tf.Tensor2D, pen: LpPenalty): LossAndGrads {
  return tf.tidy(() => {
    const { W_enc, r_mag, b_gate, b_mag, W_dec, b_dec } = params as Record<string, tf.Tensor2D>;
    const B = x_BD.shape[0];
    const xc = tf.sub(x_BD, b_dec) as tf.Tensor2D;
    const z = mm(xc, W_enc);
    const piGate = tf.add(z, b_gate);
    const expR = tf.exp(r_mag);
    const piMag = tf.add(tf.mul(z, expR), b_mag);
    const gateOn = positiveMask(piGate);
    const on = tf.mul(gateOn, positiveMask(piMag));
    const f = tf.mul(piMag, on) as tf.Tensor2D;
    const g = tf.relu(piGate) as tf.Tensor2D;
    const xHat = tf.fused.matMul({ a: f, b: W_dec, bias: b_dec }) as tf.Tensor2D;
    const xAux = tf.fused.matMul({ a: g, b: W_dec, bias: b_dec }) as tf.Tensor2D;
    const e = tf.sub(xHat, x_BD);
    const eAux = tf.sub(xAux, x_BD);
    const recon = tf.div(tf.sum(tf.square(e)), B) as tf.Scalar;
    const aux = tf.div(tf.sum(tf.square(eAux)), B) as tf.Scalar;
    const lpOf = (p: number) => (p === 1 ? tf.div(tf.sum(g), B) : tf.div(tf.sum(tf.pow(g, p)), B)) as tf.Scalar;
    const lp = lpOf(pen.p);
    const sparsity = tf.mul(lp, pen.lambda) as tf.Scalar;
    const loss = tf.addN([recon, sparsity, aux]) as tf.Scalar;

    const dXHat = tf.mul(e, 2 / B) as tf.Tensor2D;
    const dXAux = tf.mul(eAux, 2 / B) as tf.Tensor2D;
    const dW_dec = mm(f, dXHat, true, false);
    const dF = mm(dXHat, W_dec, false, true);
    const dG = mm(dXAux, W_dec, false, true);
    const dPiMag = tf.mul(dF, on);
    const dSparse =
      pen.p === 1
        ? tf.scalar(pen.lambda / B)
        : tf.mul(tf.pow(tf.add(g, tf.sub(1, gateOn)), pen.p - 1), (pen.lambda * pen.p) / B); // exactly g where on, 1 where off; then masked
    const dPiGate = tf.mul(tf.add(dG, dSparse), gateOn) as tf.Tensor2D;
    const dMagPart = tf.mul(dPiMag, expR);
    const dZ = tf.add(dPiGate, dMagPart) as tf.Tensor2D;
    const dr_mag = colSum(tf.mul(dMagPart, z) as tf.Tensor2D);
    const db_mag = colSum(dPiMag as tf.Tensor2D);
    const db_gate = colSum(dPiGate);
    const { dW_enc, db_dec } = encoderBackward(xc, W_enc, dZ, colSum(dXHat));

    const scalars: Record<string, tf.Scalar> = { loss, recon, sparsity, aux, lp, ...batchStats(x_BD, xHat, tf.sum(on) as tf.Scalar) };
    if (hasNextP(pen)) scalars.lpNext = lpOf(pen.nextP);
    return {
      grads: { W_enc: dW_enc, r_mag: dr_mag, b_gate: db_gate, b_mag: db_mag, W_dec: dW_dec, b_dec: db_dec },
      scalars,
      fired_F: positiveMask(colSum(f)) as tf.Tensor1D,
    };
  });
}

/**
 * The fused native step for the gated SAE (native.ts), shared by the gated and gated-anneal
 * trainers: the same maths as gatedLossAndGrads + ConstrainedAdam, in place on the wasm heap.
 */
export function gatedNativeStep(
  addon: SaeNativeAddon,
  dict: Dictionary,
  adam: Adam,
  x_BD: tf.Tensor2D,
  pen: LpPenalty,
  lr: number,
): { host: Record<string, number>; fired: Float32Array } {
  const step = fusedStepInputs(dict.params, dict.dictSize, adam, x_BD, ['W_enc', 'r_mag', 'b_gate', 'b_mag', 'W_dec', 'b_dec'], lr);
  const { stats, fired } = step.run(addon.gatedStep, lpStepHyper(pen, step.adamHyper), 10);
  const [loss, recon, aux, lp, lpNext, l0count, sse, varX, varE] = stats;
  const host: Record<string, number> = { loss, recon, sparsity: pen.lambda * lp, aux, lp, ...fusedBatchStats(l0count, sse, varX, varE, step.B, step.D) };
  if (hasNextP(pen)) host.lpNext = lpNext;
  return { host, fired };
}

export class GatedTrainer extends BaseTrainer<GatedConfig> {
  private readonly native = chooseSaeEngine() === 'native' ? loadSaeNative() : null;

  protected override fusedStep(x_BD: tf.Tensor2D, step: number) {
    return this.native ? gatedNativeStep(this.native, this.dictionary, this.adam, x_BD, { lambda: this.config.l1Penalty, p: 1 }, this.lrAt(step)) : null;
  }

  protected lossAndGrads(x_BD: tf.Tensor2D): LossAndGrads {
    return gatedLossAndGrads(this.dictionary.params, x_BD, { lambda: this.config.l1Penalty, p: 1 });
  }
  protected transformGrads(grads: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
    return constrainedAdamGrads(this.dictionary, grads);
  }
  protected override afterStep(): void {
    renormalizeDecoder(this.dictionary.params.W_dec);
  }
}
