/**
 * Top-k trainer (trainers.md §4; dictionary_learning TrainerTopK at c52ff00):
 *   L = mean_b ‖x̂ − x‖₂² + (1/32) · AuxK
 *   AuxK = scale · mean_{b,d} (ê − e)² / TotVar_d, applied once some feature has not fired for
 *   more than 10M tokens: ê decodes (with b_dec) the top-k_aux pre-activations among dead
 *   features, k_aux = min(d/2, #dead), scale = min(#dead / (d/2), 1), e = x̂ − x,
 *   TotVar_d = Σ_b (x_bd − mean_b x_d)².
 * Step order of c52ff00: b_dec ← geometric median of the first batch (step 0 only); renormalise
 * decoder rows; backprop; clip the global gradient norm to 1; remove the gradient component
 * parallel to each decoder row; Adam (0.9, 0.999), lr 2e-4/√(m/2^14), constant then linear decay
 * to 0 from 24000/36621 of the run; no warm-up.
 */
import { tf } from '../../tensor/backend.js';
import type { TopKConfig } from '../config.js';
import { F32_EPS } from '../dictionaries/init.js';
import type { Dictionary } from '../dictionary.js';
import { colMean, colSum, maskedMatMulT, mm, positiveMask, removeParallelRows, topKMask } from '../ops.js';
import { clipGradNorm, renormalizeDecoder } from '../optim.js';
import { chooseSaeEngine, fusedStepInputs, loadSaeNative, type SaeNativeAddon } from '../native.js';
import type { Adam } from '../optim.js';
import { BaseTrainer, batchStats, type FiringTracker, type LossAndGrads } from '../trainer.js';
import { auxKActivations, encoderBackward, fusedBatchStats, initDecoderBiasToMedian } from '../trainerParts.js';

export interface TopKNativeOptions {
  batch: boolean;
  k: number;
  auxKCoeff: number;
  deadTokensThreshold: number;
  gradClip: number;
}

/**
 * The fused native step shared by the top-k and batch-top-k trainers (native.ts): the same maths
 * as their lossAndGrads + transformGrads + Adam (+ the decoder renormalisation, before the loss
 * for top-k, after Adam for batch-top-k), in place on the wasm heap. The caller does step 0's
 * geometric-median b_dec; `firing` is updated in place. Returns the step's scalars (with
 * minPositive, the smallest kept activation, for batch-top-k's threshold) and fired flags.
 */
export function topKNativeStep(
  addon: SaeNativeAddon,
  dict: Dictionary,
  adam: Adam,
  firing: FiringTracker,
  x_BD: tf.Tensor2D,
  o: TopKNativeOptions,
  lr: number,
): { host: Record<string, number>; fired: Float32Array; minPositive: number } {
  const step = fusedStepInputs(dict.params, dict.dictSize, adam, x_BD, ['W_enc', 'b_enc', 'W_dec', 'b_dec'], lr);
  const hyper = new Float64Array([
    o.batch ? 1 : 0, o.k, o.auxKCoeff, o.deadTokensThreshold, o.gradClip,
    ...step.adamHyper,
    F32_EPS, 1e-6,
  ]);
  const { stats, fired } = step.run((...args) => addon.topkStep(...args, firing.tokensSinceFired), hyper, 10);
  const [loss, recon, auxk, l0count, sse, varX, varE, minPositive] = stats;
  const host = { loss, recon, auxk, ...fusedBatchStats(l0count, sse, varX, varE, step.B, step.D) };
  return { host, fired, minPositive };
}

export class TopKTrainer extends BaseTrainer<TopKConfig> {
  // chooseSaeEngine also loads the native addon for its top-k mask kernel (used by the tfjs step)
  private readonly native = chooseSaeEngine() === 'native' ? loadSaeNative() : null;

  constructor(config: TopKConfig, dictionary: Dictionary) {
    super(config, dictionary);
    this.tracksFiringInLoss = true;
    this.deadThreshold = config.deadTokensThreshold;
    this.deadInclusive = false;
  }

  protected override fusedStep(x_BD: tf.Tensor2D, step: number) {
    // d = 1 makes AuxK's k_aux = ⌊d/2⌋ = 0, a degenerate case only the reference step handles
    if (!this.native || this.config.dIn < 2) return null;
    if (step === 0) initDecoderBiasToMedian(this.dictionary, x_BD);
    const c = this.config;
    const o = { batch: false, k: c.k, auxKCoeff: c.auxKCoeff, deadTokensThreshold: c.deadTokensThreshold, gradClip: c.gradClip };
    return topKNativeStep(this.native, this.dictionary, this.adam, this.firing, x_BD, o, this.lrAt(step));
  }

  protected override beforeLoss(x_BD: tf.Tensor2D, step: number): void {
    if (step === 0) initDecoderBiasToMedian(this.dictionary, x_BD);
    renormalizeDecoder(this.dictionary.params.W_dec, F32_EPS);
  }

  protected lossAndGrads(x_BD: tf.Tensor2D): LossAndGrads {
    const { W_enc, b_enc, W_dec, b_dec } = this.dictionary.params as Record<string, tf.Tensor2D>;
    const c = this.config;
    const B = x_BD.shape[0];
    const D = c.dIn;
    const fwd = tf.tidy(() => {
      const xc = tf.sub(x_BD, b_dec) as tf.Tensor2D;
      const post = tf.fused.matMul({ a: xc, b: W_enc, bias: b_enc, activation: 'relu' }) as tf.Tensor2D;
      const pre = post; // only its sign is used below (post > 0 ⇔ pre > 0)
      const mask = topKMask(post, c.k);
      const f = tf.mul(post, mask) as tf.Tensor2D;
      const fired = positiveMask(colSum(f)) as tf.Tensor1D;
      return { xc, pre, post, mask, f, fired };
    });
    // Update "tokens since fired" with this batch before choosing the dead features (as c52ff00).
    this.firing.observe(fwd.fired.dataSync(), B);
    const nDead = this.firing.countDead(c.deadTokensThreshold, false);
    const half = Math.floor(D / 2);
    const useAux = c.auxKCoeff > 0 && nDead > 0;
    const deadMask = useAux ? this.firing.deadMask(c.deadTokensThreshold, false) : null;

    const out = tf.tidy(() => {
      const { xc, pre, post, mask, f } = fwd;
      const xHat = tf.fused.matMul({ a: f, b: W_dec, bias: b_dec }) as tf.Tensor2D;
      const e = tf.sub(xHat, x_BD) as tf.Tensor2D;
      const recon = tf.div(tf.sum(tf.square(e)), B) as tf.Scalar;
      let dXHat = tf.mul(e, 2 / B) as tf.Tensor2D;
      let dW_dec: tf.Tensor2D;
      let dPost: tf.Tensor;
      let db_dec: tf.Tensor;
      let auxLoss: tf.Scalar = tf.scalar(0);
      if (useAux && deadMask) {
        const kAux = Math.min(half, nDead);
        const scale = Math.min(nDead / half, 1);
        const { auxMask, a } = auxKActivations(post, deadMask, kAux);
        const eHat = tf.add(mm(a, W_dec), b_dec);
        const totVar = tf.sum(tf.square(tf.sub(x_BD, colMean(x_BD))), 0);
        const tvHost = totVar.dataSync();
        const w = tf.tensor1d(Array.from(tvHost, (v) => (v > 0 ? 1 / v : 0))); // zero-variance dims carry no weight
        const r = tf.sub(eHat, e);
        auxLoss = tf.mul(tf.div(tf.sum(tf.mul(tf.square(r), w)), B * D), scale) as tf.Scalar;
        const cc = (c.auxKCoeff * scale) / (B * D);
        const dEHat = tf.mul(tf.mul(r, w), 2 * cc) as tf.Tensor2D;
        dXHat = tf.sub(dXHat, dEHat) as tf.Tensor2D;
        dW_dec = tf.add(mm(f, dXHat, true, false), mm(a, dEHat, true, false)) as tf.Tensor2D;
        dPost = tf.add(maskedMatMulT(dXHat, W_dec, mask), maskedMatMulT(dEHat, W_dec, auxMask as tf.Tensor2D));
        db_dec = tf.add(colSum(dXHat), colSum(dEHat));
      } else {
        dW_dec = mm(f, dXHat, true, false);
        dPost = maskedMatMulT(dXHat, W_dec, mask);
        db_dec = colSum(dXHat);
      }
      const loss = tf.add(recon, tf.mul(auxLoss, c.auxKCoeff)) as tf.Scalar;
      const dPre = tf.mul(dPost, positiveMask(pre)) as tf.Tensor2D;
      const enc = encoderBackward(xc, W_enc, dPre, db_dec);
      const db_enc = colSum(dPre);
      return {
        grads: { W_enc: enc.dW_enc, b_enc: db_enc, W_dec: dW_dec, b_dec: enc.db_dec },
        scalars: { loss, recon, auxk: auxLoss, ...batchStats(x_BD, xHat, tf.sum(positiveMask(f)) as tf.Scalar) },
      };
    });
    tf.dispose(Object.values(fwd));
    return out;
  }

  protected transformGrads(grads: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
    const clipped = clipGradNorm(grads, this.config.gradClip);
    const W_dec = this.dictionary.params.W_dec as tf.Tensor2D;
    // c52ff00 projects with the decoder rows as they are (unit norm since the step's renorm)
    const projected = removeParallelRows(W_dec, clipped.W_dec as tf.Tensor2D, 0, false);
    clipped.W_dec.dispose();
    return { ...clipped, W_dec: projected };
  }

  protected override extraStats(): Record<string, number | null> {
    return { k: this.config.k };
  }
}
