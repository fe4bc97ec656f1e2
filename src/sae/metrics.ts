/**
 * Unsupervised SAE metrics (metrics.md §7): sparsity, reconstruction and feature-density
 * statistics over a sample of activation vectors, and loss recovered by splicing the
 * reconstruction into the LM's forward pass.
 *
 * Definitions (x: input, x̂: reconstruction, f = encode(x), over the N sampled vectors):
 *   l0                     mean_b #{i : f_i ≠ 0}                        (x-axis of every figure)
 *   frac_variance_explained 1 − Σ_d Var(x − x̂) / Σ_d Var(x), unbiased (N − 1)
 *   mse                    mean_{b,d} (x − x̂)²
 *   l2_loss                mean_b ‖x − x̂‖₂           l1_loss   mean_b ‖f‖₁
 *   l1_normalized          mean_b ‖f‖₁ / ‖x‖₂        (scale-free sparsity; our choice of normaliser)
 *   cossim, l2_ratio       mean_b cos(x, x̂),  mean_b ‖x̂‖/‖x‖
 *   frac_alive             l0 / dictSize — the paper-era CSV column of that name (a misnomer, §7)
 *   alive/dead/dense_features  features firing on > 0 / 0 / more than `denseThreshold` of the vectors
 *   relative_reconstruction_bias  γ = E‖x̂‖² / E[x·x̂]   [P App E, eq 15]
 *   feature_density_histogram     log10 firing frequencies of the alive features, fixed bins
 * The paper computed everything except loss recovered on one batch of 25 vectors; here the sample
 * size is part of the eval config (`nVectors`), and 25 reproduces the paper's setting.
 */
import { tf } from '../tensor/backend.js';
import { UserInputError } from '../errors.js';
import type { Gpt, Site } from '../lm/model.js';
import type { Dictionary } from './dictionary.js';
import { colSum, positiveMask } from './ops.js';

export interface DensityHistogram {
  /** Bin edges in log10(frequency), length bins + 1. */
  edges: number[];
  counts: number[];
  /** Features that never fired (not in any bin). */
  dead: number;
}

export interface ReconstructionMetrics {
  nVectors: number;
  l0: number;
  fracVarianceExplained: number;
  mse: number;
  l2Loss: number;
  l1Loss: number;
  l1Normalized: number;
  cossim: number;
  l2Ratio: number;
  fracAlive: number;
  aliveFeatures: number;
  deadFeatures: number;
  denseFeatures: number;
  relativeReconstructionBias: number;
  densityHistogram: DensityHistogram;
  /** Firing frequency per feature, [F]. */
  featureDensity: Float64Array;
}

export interface ReconstructionOptions {
  /** Features firing on more than this fraction of vectors count as dense (default 0.1). */
  denseThreshold?: number;
  /** Histogram range and bins in log10 frequency (default −8..0, 40 bins). */
  histogram?: { min: number; max: number; bins: number };
}

/** Streaming accumulator: add batches, then `result()`. Sums are kept in float64 on the host. */
export class ReconstructionAccumulator {
  private n = 0;
  private sums = { l0: 0, sq: 0, l2: 0, l1: 0, l1n: 0, cos: 0, ratio: 0, xhat2: 0, xdot: 0 };
  private readonly fires: Float64Array;
  // per-dimension mean / M2 of x and of e = x − x̂, merged batch-wise (Chan et al.)
  private readonly meanX: Float64Array;
  private readonly m2X: Float64Array;
  private readonly meanE: Float64Array;
  private readonly m2E: Float64Array;

  constructor(
    readonly dict: Dictionary,
    readonly opts: ReconstructionOptions = {},
  ) {
    this.fires = new Float64Array(dict.dictSize);
    this.meanX = new Float64Array(dict.dIn);
    this.m2X = new Float64Array(dict.dIn);
    this.meanE = new Float64Array(dict.dIn);
    this.m2E = new Float64Array(dict.dIn);
  }

  add(x_BD: tf.Tensor2D): void {
    const B = x_BD.shape[0];
    const D = this.dict.dIn;
    if (x_BD.shape[1] !== D) throw new UserInputError(`metrics: activations have width ${x_BD.shape[1]} but the SAE expects d_in ${D}`);
    const packed = tf.tidy(() => {
      const { xHat_BD, feats_BF } = this.dict.forward(x_BD);
      const e = tf.sub(x_BD, xHat_BD) as tf.Tensor2D;
      const active = positiveMask(tf.abs(feats_BF)) as tf.Tensor2D;
      const x2 = tf.sum(tf.square(x_BD), 1);
      const h2 = tf.sum(tf.square(xHat_BD), 1);
      const dot = tf.sum(tf.mul(x_BD, xHat_BD), 1);
      const e2 = tf.sum(tf.square(e), 1);
      const l1 = tf.sum(tf.abs(feats_BF), 1);
      const l0 = tf.sum(active, 1);
      const meanX = tf.div(colSum(x_BD), B);
      const meanE = tf.div(colSum(e), B);
      const m2X = colSum(tf.square(tf.sub(x_BD, meanX)) as tf.Tensor2D);
      const m2E = colSum(tf.square(tf.sub(e, meanE)) as tf.Tensor2D);
      return tf.concat([x2, h2, dot, e2, l1, l0, meanX, meanE, m2X, m2E, colSum(active)]);
    });
    const h = packed.dataSync() as Float32Array;
    packed.dispose();
    let o = 0;
    const take = (n: number) => {
      const v = h.subarray(o, o + n);
      o += n;
      return v;
    };
    const [x2, h2, dot, e2, l1, l0] = [take(B), take(B), take(B), take(B), take(B), take(B)];
    const [bMeanX, bMeanE, bM2X, bM2E, fires] = [take(D), take(D), take(D), take(D), take(this.dict.dictSize)];
    const s = this.sums;
    for (let b = 0; b < B; b++) {
      const nx = Math.sqrt(x2[b]);
      const nh = Math.sqrt(h2[b]);
      s.l0 += l0[b];
      s.sq += e2[b];
      s.l2 += Math.sqrt(e2[b]);
      s.l1 += l1[b];
      s.l1n += nx > 0 ? l1[b] / nx : 0;
      s.cos += nx > 0 && nh > 0 ? dot[b] / (nx * nh) : 0;
      s.ratio += nx > 0 ? nh / nx : 0;
      s.xhat2 += h2[b];
      s.xdot += dot[b];
    }
    for (let i = 0; i < fires.length; i++) this.fires[i] += fires[i];
    const nA = this.n;
    const nAB = nA + B;
    for (let d = 0; d < D; d++) {
      for (const [mean, m2, bm, bm2] of [
        [this.meanX, this.m2X, bMeanX, bM2X],
        [this.meanE, this.m2E, bMeanE, bM2E],
      ] as const) {
        const delta = bm[d] - mean[d];
        mean[d] += (delta * B) / nAB;
        m2[d] += bm2[d] + (delta * delta * nA * B) / nAB;
      }
    }
    this.n = nAB;
  }

  result(): ReconstructionMetrics {
    const n = this.n;
    if (n < 2) throw new UserInputError('metrics need at least 2 activation vectors');
    const s = this.sums;
    const F = this.dict.dictSize;
    const D = this.dict.dIn;
    let varX = 0;
    let varE = 0;
    for (let d = 0; d < D; d++) {
      varX += this.m2X[d] / (n - 1);
      varE += this.m2E[d] / (n - 1);
    }
    const density = new Float64Array(F);
    let dead = 0;
    let dense = 0;
    const denseThreshold = this.opts.denseThreshold ?? 0.1;
    const hist = this.opts.histogram ?? { min: -8, max: 0, bins: 40 };
    const counts = new Array<number>(hist.bins).fill(0);
    for (let i = 0; i < F; i++) {
      density[i] = this.fires[i] / n;
      if (this.fires[i] === 0) {
        dead++;
        continue;
      }
      if (density[i] > denseThreshold) dense++;
      const lg = Math.log10(density[i]);
      const bin = Math.min(hist.bins - 1, Math.max(0, Math.floor(((lg - hist.min) / (hist.max - hist.min)) * hist.bins)));
      counts[bin]++;
    }
    const edges = Array.from({ length: hist.bins + 1 }, (_, i) => hist.min + ((hist.max - hist.min) * i) / hist.bins);
    const l0 = s.l0 / n;
    return {
      nVectors: n,
      l0,
      fracVarianceExplained: varX > 0 ? 1 - varE / varX : NaN,
      mse: s.sq / (n * D),
      l2Loss: s.l2 / n,
      l1Loss: s.l1 / n,
      l1Normalized: s.l1n / n,
      cossim: s.cos / n,
      l2Ratio: s.ratio / n,
      fracAlive: l0 / F,
      aliveFeatures: F - dead,
      deadFeatures: dead,
      denseFeatures: dense,
      relativeReconstructionBias: s.xdot !== 0 ? s.xhat2 / s.xdot : NaN,
      densityHistogram: { edges, counts, dead },
      featureDensity: density,
    };
  }
}

/** Reconstruction metrics over host batches [B, d] (each batch is consumed and freed). */
export async function reconstructionMetrics(
  dict: Dictionary,
  batches: AsyncIterable<Float32Array> | Iterable<Float32Array>,
  opts: ReconstructionOptions = {},
): Promise<ReconstructionMetrics> {
  const acc = new ReconstructionAccumulator(dict, opts);
  for await (const host of batches) {
    const x = tf.tensor2d(host, [host.length / dict.dIn, dict.dIn]);
    try {
      acc.add(x);
    } finally {
      x.dispose();
    }
  }
  return acc.result();
}

/**
 * Next-token loss of an LM on token rows, with an optional replacement of one hook site's
 * activations: the interface loss recovered needs (`(tokens, patch?) => loss`).
 */
export type PatchedLoss = (tokens_BT: Int32Array, B: number, T: number, patch: ((acts_BTD: tf.Tensor3D) => tf.Tensor3D) | null) => number;

/** PatchedLoss for a saeboard GPT: the patch replaces the output of block `layer` at `site`. */
export function gptPatchedLoss(model: Gpt, layer: number, site: Site = 'resid_post'): PatchedLoss {
  return (tokens, B, T, patch) =>
    tf.tidy(() => {
      const toks = tf.tensor2d(tokens, [B, T], 'int32');
      const loss = model.nextTokenLoss(toks, {
        hook: patch ? (x, p) => (p.layer === layer && p.site === site ? patch(x) : undefined) : undefined,
      });
      return loss.dataSync()[0];
    });
}

export interface LossRecovered {
  lossOriginal: number;
  lossReconstructed: number;
  lossZero: number;
  fracRecovered: number;
  contexts: number;
}

/**
 * metrics.md §7: H_orig (clean), H_* (block output replaced by the SAE reconstruction at every
 * position), H_0 (replaced by zeros); frac_recovered = (H_* − H_0) / (H_orig − H_0), mean
 * cross-entropy over all next-token predictions of the given rows.
 */
export function lossRecovered(loss: PatchedLoss, dict: Dictionary, tokens: Int32Array, nRows: number, T: number, batchRows = 8): LossRecovered {
  let orig = 0;
  let rec = 0;
  let zero = 0;
  const reconstruct = (x: tf.Tensor3D) =>
    tf.tidy(() => {
      const [B, TT, D] = x.shape;
      if (D !== dict.dIn) throw new UserInputError(`loss recovered: the LM site has width ${D} but the SAE expects d_in ${dict.dIn}`);
      const { xHat_BD } = dict.forward(tf.reshape(x, [B * TT, D]) as tf.Tensor2D);
      return tf.reshape(xHat_BD, [B, TT, D]) as tf.Tensor3D;
    });
  const zeros = (x: tf.Tensor3D) => tf.zerosLike(x);
  for (let r = 0; r < nRows; r += batchRows) {
    const B = Math.min(batchRows, nRows - r);
    const rows = tokens.subarray(r * T, (r + B) * T);
    orig += loss(rows, B, T, null) * B;
    rec += loss(rows, B, T, reconstruct) * B;
    zero += loss(rows, B, T, zeros) * B;
  }
  const H = { o: orig / nRows, r: rec / nRows, z: zero / nRows };
  return { lossOriginal: H.o, lossReconstructed: H.r, lossZero: H.z, fracRecovered: (H.r - H.z) / (H.o - H.z), contexts: nRows };
}

/** The metric rows stored in metric_results (family ''), with their details. */
export function metricRows(m: ReconstructionMetrics, lr: LossRecovered | null): { metric: string; value: number; details?: Record<string, unknown> }[] {
  const rows: { metric: string; value: number; details?: Record<string, unknown> }[] = [
    { metric: 'l0', value: m.l0 },
    { metric: 'frac_variance_explained', value: m.fracVarianceExplained },
    { metric: 'mse', value: m.mse },
    { metric: 'l2_loss', value: m.l2Loss },
    { metric: 'l1_loss', value: m.l1Loss },
    { metric: 'l1_normalized', value: m.l1Normalized },
    { metric: 'cossim', value: m.cossim },
    { metric: 'l2_ratio', value: m.l2Ratio },
    { metric: 'frac_alive', value: m.fracAlive, details: { note: 'l0 / dict_size, as the paper-era CSV column of this name' } },
    { metric: 'num_alive_features', value: m.aliveFeatures },
    { metric: 'dead_features', value: m.deadFeatures },
    { metric: 'dense_features', value: m.denseFeatures },
    { metric: 'relative_reconstruction_bias', value: m.relativeReconstructionBias },
    { metric: 'feature_density_histogram', value: m.aliveFeatures, details: { ...m.densityHistogram } },
  ];
  if (lr) {
    rows.push(
      { metric: 'frac_recovered', value: lr.fracRecovered, details: { contexts: lr.contexts } },
      { metric: 'loss_original', value: lr.lossOriginal },
      { metric: 'loss_reconstructed', value: lr.lossReconstructed },
      { metric: 'loss_zero', value: lr.lossZero },
    );
  }
  return rows.filter((r) => Number.isFinite(r.value));
}
