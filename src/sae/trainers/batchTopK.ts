/**
 * Batch-top-k trainer (dictionary_learning BatchTopKTrainer, trainers/batch_top_k.py; our reading,
 * documented in docs/sae.md): training keeps the k·B largest ReLU pre-activations of the batch;
 *   L = mean_b ‖x − x̂‖₂² + (1/32) · AuxK,
 *   AuxK = mean_b ‖r − W_dec-decode(top-k_aux dead pre-activations)‖² / mean_b ‖r − mean_b r‖²
 * with r = sg(x − x̂) (no b_dec in the auxiliary decode), dead = not fired for ≥ 10M tokens,
 * k_aux = min(d/2, #dead); NaN (zero variance) counts as 0. After step `thresholdStartStep` the
 * inference threshold tracks the smallest positive kept activation by an EMA (β = 0.999).
 * Step: b_dec ← geometric median (step 0); backprop; remove the decoder-parallel gradient; clip
 * the global norm to 1; Adam (0.9, 0.999) with warm-up 1000; renormalise decoder rows.
 */
import { tf } from '../../tensor/backend.js';
import type { BatchTopKConfig } from '../config.js';
import { batchTopKMask } from '../dictionaries/batchTopK.js';
import { F32_EPS } from '../dictionaries/init.js';
import type { Dictionary } from '../dictionary.js';
import { colMean, colSum, maskedMatMulT, mm, positiveMask } from '../ops.js';
import { renormalizeDecoder } from '../optim.js';
import { chooseSaeEngine, loadSaeNative } from '../native.js';
import { BaseTrainer, batchStats, type LossAndGrads } from '../trainer.js';
import { auxKActivations, encoderBackward, initDecoderBiasToMedian, projectThenClip } from '../trainerParts.js';
import { topKNativeStep } from './topK.js';

export class BatchTopKTrainer extends BaseTrainer<BatchTopKConfig> {
  // chooseSaeEngine also loads the native addon for its top-k mask kernel (used by the tfjs step)
  private readonly native = chooseSaeEngine() === 'native' ? loadSaeNative() : null;

  constructor(config: BatchTopKConfig, dictionary: Dictionary) {
    super(config, dictionary);
    this.tracksFiringInLoss = true;
    this.deadThreshold = config.deadTokensThreshold;
    this.deadInclusive = true;
  }

  protected override fusedStep(x_BD: tf.Tensor2D, step: number) {
    // d = 1 makes AuxK's k_aux = ⌊d/2⌋ = 0, a degenerate case only the reference step handles
    if (!this.native || this.config.dIn < 2) return null;
    this.beforeLoss(x_BD, step);
    const c = this.config;
    const o = { batch: true, k: c.k, auxKCoeff: c.auxKCoeff, deadTokensThreshold: c.deadTokensThreshold, gradClip: c.gradClip };
    const out = topKNativeStep(this.native, this.dictionary, this.adam, this.firing, x_BD, o, this.lrAt(step));
    this.updateThreshold(out.minPositive, step);
    return out;
  }

  /** After thresholdStartStep: EMA of the smallest kept positive activation (1e30: none kept). */
  private updateThreshold(minPositive: number, step: number): void {
    const c = this.config;
    if (step <= c.thresholdStartStep) return;
    const minAct = minPositive < 1e29 ? minPositive : 0;
    const th = this.dictionary.params.threshold.dataSync()[0];
    const next = th < 0 ? minAct : c.thresholdBeta * th + (1 - c.thresholdBeta) * minAct;
    tf.tidy(() => this.dictionary.params.threshold.assign(tf.scalar(next)));
  }

  protected override beforeLoss(x_BD: tf.Tensor2D, step: number): void {
    if (step === 0) initDecoderBiasToMedian(this.dictionary, x_BD);
  }

  protected lossAndGrads(x_BD: tf.Tensor2D, step: number): LossAndGrads {
    const { W_enc, b_enc, W_dec, b_dec } = this.dictionary.params as Record<string, tf.Tensor2D>;
    const c = this.config;
    const B = x_BD.shape[0];
    const fwd = tf.tidy(() => {
      const xc = tf.sub(x_BD, b_dec) as tf.Tensor2D;
      const post = tf.fused.matMul({ a: xc, b: W_enc, bias: b_enc, activation: 'relu' }) as tf.Tensor2D;
      const pre = post; // only its sign is used below (post > 0 ⇔ pre > 0)
      const mask = batchTopKMask(post, c.k * B);
      const f = tf.mul(post, mask) as tf.Tensor2D;
      const fired = positiveMask(colSum(f)) as tf.Tensor1D;
      // smallest kept positive activation (for the inference threshold's EMA)
      const minPos = tf.min(tf.add(f, tf.mul(tf.sub(1, positiveMask(f)), 1e30)));
      return { xc, pre, post, mask, f, packed: tf.concat([fired, tf.reshape(minPos, [1])]) };
    });
    const packed = fwd.packed.dataSync() as Float32Array;
    const F = c.dictSize;
    this.updateThreshold(packed[F], step);
    this.firing.observe(packed.subarray(0, F), B);
    const nDead = this.firing.countDead(c.deadTokensThreshold, true);
    const useAux = c.auxKCoeff > 0 && nDead > 0;
    const deadMask = useAux ? this.firing.deadMask(c.deadTokensThreshold, true) : null;

    const out = tf.tidy(() => {
      const { xc, pre, post, mask, f } = fwd;
      const xHat = tf.fused.matMul({ a: f, b: W_dec, bias: b_dec }) as tf.Tensor2D;
      const e = tf.sub(x_BD, xHat) as tf.Tensor2D;
      const recon = tf.div(tf.sum(tf.square(e)), B) as tf.Scalar;
      const dXHat = tf.mul(e, -2 / B) as tf.Tensor2D;
      let dW_dec = mm(f, dXHat, true, false);
      let dPost = maskedMatMulT(dXHat, W_dec, mask);
      let auxLoss: tf.Scalar = tf.scalar(0);
      if (useAux && deadMask) {
        const kAux = Math.min(Math.floor(c.dIn / 2), nDead);
        const { auxMask, a } = auxKActivations(post, deadMask, kAux);
        const xAux = mm(a, W_dec);
        const res = tf.sub(e, xAux) as tf.Tensor2D;
        const l2Aux = tf.div(tf.sum(tf.square(res)), B);
        const denomHost = tf.div(tf.sum(tf.square(tf.sub(e, colMean(e)))), B).dataSync()[0];
        if (denomHost > 0) {
          auxLoss = tf.div(l2Aux, denomHost) as tf.Scalar;
          // ∂/∂x_aux = −2 (r − x_aux) / (B · denom) · coeff; r = x − x̂ is held constant (detached)
          const dXAux = tf.mul(res, (-2 / (B * denomHost)) * c.auxKCoeff) as tf.Tensor2D;
          dW_dec = tf.add(dW_dec, mm(a, dXAux, true, false)) as tf.Tensor2D;
          dPost = tf.add(dPost, maskedMatMulT(dXAux, W_dec, auxMask as tf.Tensor2D));
        } // zero variance: dictionary_learning's nan_to_num(0) — no AuxK this step
      }
      const loss = tf.add(recon, tf.mul(auxLoss, c.auxKCoeff)) as tf.Scalar;
      const dPre = tf.mul(dPost, positiveMask(pre)) as tf.Tensor2D;
      const { dW_enc, db_dec } = encoderBackward(xc, W_enc, dPre, colSum(dXHat));
      const db_enc = colSum(dPre);
      return {
        grads: { W_enc: dW_enc, b_enc: db_enc, W_dec: dW_dec, b_dec: db_dec },
        scalars: { loss, recon, auxk: auxLoss, ...batchStats(x_BD, xHat, tf.sum(positiveMask(f)) as tf.Scalar) },
      };
    });
    tf.dispose(Object.values(fwd));
    return out;
  }

  protected transformGrads(grads: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
    return projectThenClip(this.dictionary, grads, this.config.gradClip);
  }

  protected override afterStep(): void {
    renormalizeDecoder(this.dictionary.params.W_dec, F32_EPS);
  }

  protected override extraStats(): Record<string, number | null> {
    return { threshold: this.dictionary.params.threshold.dataSync()[0] };
  }
}
